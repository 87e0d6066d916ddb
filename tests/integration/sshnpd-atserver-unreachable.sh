#!/bin/bash
# sshnpd never stalls on its atServer: connecting, PKAM, monitor reconnects and replies run on the
# event loop without blocking it. Two ways for the atServer to be unreachable:
#  A. the root server address accepts TCP and never answers TLS (the connect times out only
#     after 10 s);
#  B. sshnpd is connected and serving, then atserverd is frozen (SIGSTOP): heartbeats go
#     unanswered, the monitor reconnects into a TLS handshake that never completes.
# Throughout, a D-Bus property read is answered within 1 s, and SIGTERM ends sshnpd within 1 s;
# srvd too in case A.
# After B, atserverd is thawed and sshnpd is serving again without help.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
. "$SOURCE_DIR/tests/lib/netns.sh"
. "$SOURCE_DIR/tests/lib/world.sh"

for p in atserverd at_activate sshnpd srvd; do
        world_bin "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not built"; exit 77; }
done

WORLD_DIR=$(mktemp -d /tmp/sshnpd-unreach-XXXXXX)
chmod 755 "$WORLD_DIR"
PIDS=()
ATSERVER_PID=""
cleanup() {
        local p
        [ -n "$ATSERVER_PID" ] && kill -CONT "$ATSERVER_PID" 2>/dev/null
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        world_teardown
        netns_teardown
        rm -rf "$WORLD_DIR"
}
trap cleanup EXIT

fail() {
        echo "FAIL: $*" >&2
        for f in "$WORLD_DIR"/sshnpd-*.log "$WORLD_DIR/atserverd.log"; do
                [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
        done
        exit 1
}
ok() { echo "ok: $*"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# --- a private system-like bus with the project's policy (as sshnpd-dbus.sh)
mkdir -p "$WORLD_DIR/system.d"
sed 's/user="noports"/user="root"/' "$SOURCE_DIR/dbus/org.noports.conf" > "$WORLD_DIR/system.d/org.noports.conf"
cat > "$WORLD_DIR/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$WORLD_DIR/bus.sock</listen>
  <policy context="default">
    <allow user="*"/> <deny own="*"/>
    <allow send_type="method_call"/> <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/> <allow receive_type="method_return"/>
    <allow receive_type="error"/> <allow receive_type="signal"/>
  </policy>
  <includedir>$WORLD_DIR/system.d</includedir>
</busconfig>
CONF
dbus-daemon --config-file="$WORLD_DIR/bus.conf" --nofork --nopidfile 2>"$WORLD_DIR/dbus.log" &
PIDS+=($!)
for _ in $(seq 100); do [ -S "$WORLD_DIR/bus.sock" ] && break; sleep 0.05; done
[ -S "$WORLD_DIR/bus.sock" ] || fail "dbus-daemon did not start"
BUS="unix:path=$WORLD_DIR/bus.sock"

netns_setup "unr$$" server device || fail "network namespaces"
world_start_atserver server @device @manager || fail "atserverd did not start"
ATSERVER_PID=${WORLD_PIDS[0]}
world_onboard device @device > "$WORLD_DIR/onboard-device.out" 2>&1 || fail "onboard @device"
world_onboard device @manager > "$WORLD_DIR/onboard-manager.out" 2>&1 || fail "onboard @manager"

SSHNPD_PID=""
# start_sshnpd NAME ROOT: sshnpd as @device in the device namespace, on the private bus
start_sshnpd() {
        netns_spawn device env HOME="$WORLD_DIR/home/@device" DBUS_SYSTEM_BUS_ADDRESS="$BUS" NOPORTS_LOG_LEVEL=7 \
                "$(world_bin sshnpd)" -a @device -m @manager -d "$1" --root-server "$2" --ca-file "$CA_FILE" \
                > "$WORLD_DIR/sshnpd-$1.log" 2>&1
        SSHNPD_PID=$NETNS_PID
        PIDS+=($SSHNPD_PID)
        local n=100
        while [ $n -gt 0 ]; do
                busctl --address="$BUS" status "org.noports.Sshnpd1.$1" >/dev/null 2>&1 && return 0
                sleep 0.05
                n=$((n - 1))
        done
        fail "sshnpd $1 did not take its bus name"
}

# reads_stay_fast LABEL SECONDS BUSNAME PATH PROPERTY EXPECTED: the property, every 0.3 s, each
# answered (with EXPECTED) within 1 s
reads_stay_fast() {
        local end=$(( $(now_ms) + $2 * 1000 )) t0 t1 out worst=0 n=0
        while [ "$(now_ms)" -lt "$end" ]; do
                t0=$(now_ms)
                out=$(timeout 5 busctl --address="$BUS" --timeout=5 get-property "$3" "$4" "$(echo "${4#/}" | tr / .)" "$5" 2>&1)
                t1=$(now_ms)
                [ $((t1 - t0)) -le 1000 ] || fail "a property read of $1 took $((t1 - t0)) ms ('$out')"
                [ "$out" = "$6" ] || fail "$5 of $1 read as '$out'"
                [ $((t1 - t0)) -gt $worst ] && worst=$((t1 - t0))
                n=$((n + 1))
                sleep 0.3
        done
        ok "$n property reads of $1 over $2 s, slowest $worst ms"
}
sshnpd_reads() { reads_stay_fast "sshnpd $1" "$2" "org.noports.Sshnpd1.$1" /org/noports/Sshnpd1 Device "s \"$1\""; }

# stops_promptly PID NAME: SIGTERM, exit within 1 s
stops_promptly() {
        local t0 n=0
        t0=$(now_ms)
        kill -TERM "$1"
        while kill -0 "$1" 2>/dev/null; do
                [ $n -ge 100 ] && fail "$2 still running $(( $(now_ms) - t0 )) ms after SIGTERM"
                sleep 0.01
                n=$((n + 1))
        done
        wait "$1" 2>/dev/null
        ok "$2 exited $(( $(now_ms) - t0 )) ms after SIGTERM"
}

# --- A: the root server accepts TCP and never answers TLS
SILENT_PORT=6464
netns_spawn device /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$SILENT_PORT"
PIDS+=($NETNS_PID)
netns_exec device bash -c "for i in \$(seq 50); do exec 3<>/dev/tcp/127.0.0.1/$SILENT_PORT && exit 0; sleep 0.1; done; exit 1" \
        2>/dev/null || fail "the silent listener did not start"

start_sshnpd silent "127.0.0.1:$SILENT_PORT"
# 12 s: past the first 10 s connect timeout and into the retry
sshnpd_reads silent 12
grep -q "took longer than\|Connection timed out\|timed out" "$WORLD_DIR/sshnpd-silent.log" \
        || fail "sshnpd silent did not report the connect timeout"
stops_promptly "$SSHNPD_PID" "sshnpd (connecting to a silent root server)"

# srvd the same way: its relay control interface stays readable, SIGTERM ends it at once
netns_spawn device env DBUS_SYSTEM_BUS_ADDRESS="$BUS" NOPORTS_LOG_LEVEL=7 "$(world_bin srvd)" -a @device \
        -i 127.0.0.1 -m @manager --root-domain "127.0.0.1:$SILENT_PORT" --ca-file "$CA_FILE" \
        -k "$(world_keys @device)" > "$WORLD_DIR/sshnpd-srvd.log" 2>&1
SRVD_PID=$NETNS_PID
PIDS+=($SRVD_PID)
n=100
until busctl --address="$BUS" status org.noports.Srvd1 >/dev/null 2>&1; do
        [ $n -gt 0 ] || fail "srvd did not take its bus name"
        sleep 0.05
        n=$((n - 1))
done
reads_stay_fast srvd 12 org.noports.Srvd1 /org/noports/Srvd1 AtSign 's "@device"'
stops_promptly "$SRVD_PID" "srvd (connecting to a silent root server)"

# --- B: connected, then the atServer freezes
start_sshnpd frozen "$ROOT_DOMAIN"
n=200
until grep -q "monitor started" "$WORLD_DIR/sshnpd-frozen.log"; do
        [ $n -gt 0 ] || fail "sshnpd frozen did not start monitoring"
        sleep 0.1
        n=$((n - 1))
done
ok "sshnpd frozen is serving"
kill -STOP "$ATSERVER_PID"
# the heartbeat (every 10 s, 3.3 s to answer) fails, then the monitor reconnects into a frozen server
sshnpd_reads frozen 16
grep -q "No heartbeat answer" "$WORLD_DIR/sshnpd-frozen.log" || fail "sshnpd frozen did not notice the frozen server"
kill -CONT "$ATSERVER_PID"
n=400
until [ "$(grep -c "Monitoring @device on" "$WORLD_DIR/sshnpd-frozen.log")" -ge 2 ]; do
        [ $n -gt 0 ] || fail "sshnpd frozen did not monitor again after the atServer thawed"
        sleep 0.1
        n=$((n - 1))
done
ok "sshnpd frozen monitors again after the atServer thawed"
kill -STOP "$ATSERVER_PID"
sleep 0.5
stops_promptly "$SSHNPD_PID" "sshnpd (atServer frozen)"
kill -CONT "$ATSERVER_PID"
echo "sshnpd with an unreachable atServer: PASSED"
