#!/bin/bash
# atserverd started by socket activation, as atserverd.socket does it: systemd-socket-activate
# binds the root port and execs atserverd at the first connection with LISTEN_FDS=1 (and our
# NOTIFY_SOCKET; it clears the rest of the environment). Asserts: the root directory answers on
# the passed socket, secondaries listen on its address (no --listen), READY=1 with a STATUS= that
# counts atSigns and later connections; an atSign added while it runs is found at once by the
# root (no signal) and onboarded; another is served after SIGHUP (RELOADING=1, then READY=1);
# SIGTERM: STOPPING=1 and exit 0. Two passed sockets are refused (exit 1, a clear message).
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
. "$SOURCE_DIR/tests/lib/netns.sh"
. "$SOURCE_DIR/tests/lib/world.sh"

command -v systemd-socket-activate > /dev/null || { echo "SKIP: no systemd-socket-activate"; exit 77; }
for p in atserverd at_activate; do
        world_bin "$p" > /dev/null 2>&1 || { echo "SKIP: $p is not built"; exit 77; }
done
PY=/usr/bin/python3

WORLD_DIR=$(mktemp -d /tmp/sockact-XXXXXX)
PIDS=()
cleanup() {
        local p
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
        world_teardown
        netns_teardown
        rm -rf "$WORLD_DIR"
}
trap cleanup EXIT

fail() {
        echo "FAIL: $*" >&2
        for f in "$WORLD_DIR"/*.err "$WORLD_DIR"/*.log "$WORLD_DIR/notify.out"; do
                [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
        done
        exit 1
}
ok() { echo "ok: $*"; }

# wait_file FILE PATTERN SECONDS [COUNT]: FILE has a line matching PATTERN (COUNT times)
wait_file() {
        local n=$(( $3 * 10 )) want=${4:-1}
        while [ $n -gt 0 ]; do
                [ "$(grep -cE -- "$2" "$1" 2>/dev/null)" -ge "$want" ] && return 0
                sleep 0.1
                n=$((n - 1))
        done
        return 1
}

# the service manager's side of sd_notify: one line per datagram, "\n" shown as " | "
NOTIFY_SOCKET="$WORLD_DIR/notify.sock"
$PY - "$NOTIFY_SOCKET" > "$WORLD_DIR/notify.out" <<'PYEOF' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64 * 4))
    for lvl, typ, data in anc:
        if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            for i in range(0, len(data) - len(data) % 4, 4):
                os.close(int.from_bytes(data[i:i + 4], sys.byteorder))
    print(msg.decode(errors="replace").strip().replace("\n", " | "), flush=True)
PYEOF
PIDS+=($!)
for _ in $(seq 50); do [ -S "$NOTIFY_SOCKET" ] && break; sleep 0.1; done

netns_setup "sa$$" server || fail "network namespace"
IP=$(netns_ip server)
D="$WORLD_DIR/atserver"
mkdir -p "$WORLD_DIR/cram"
ATSERVERD=$(world_bin atserverd)
"$ATSERVERD" --data-dir "$D" --add-atsign @alice > "$WORLD_DIR/cram/@alice" 2> "$WORLD_DIR/add.err" || fail "add @alice"

# --- 1. socket activation: nothing runs until the first connection
netns_spawn server systemd-socket-activate -l "$IP:64" -E NOTIFY_SOCKET="$NOTIFY_SOCKET" -E NOPORTS_LOG_LEVEL=7 \
        "$ATSERVERD" --data-dir "$D" --hostname "$IP" > "$WORLD_DIR/atserverd.log" 2>&1
PID=$NETNS_PID
PIDS+=("$PID")
wait_file "$WORLD_DIR/atserverd.log" "Listening on $IP:64" 5 || fail "systemd-socket-activate did not listen"
[ -e "$D/ca.pem" ] && fail "atserverd ran before the first connection"
netns_exec server bash -c "exec 3<>/dev/tcp/$IP/64" || fail "connecting to the activated root port"
wait_file "$WORLD_DIR/notify.out" '^READY=1 \| STATUS=Serving 1 atSign, [0-9]+ connections?; root on port 64$' 10 ||
        fail "no READY=1 with STATUS= naming 1 atSign and the root port"
[ "$(cat "/proc/$PID/comm")" = atserverd ] || fail "pid $PID is not atserverd"
grep -q "Root directory on the socket passed by the service manager (port 64)" "$WORLD_DIR/atserverd.log" ||
        fail "atserverd did not take the passed socket"
grep -qE "Serving @alice on $IP:[0-9]+" "$WORLD_DIR/atserverd.log" ||
        fail "@alice's secondary is not on the root socket's address $IP"
ok "socket activated at the first connection: READY=1, $(grep -m1 '^READY' "$WORLD_DIR/notify.out")"

ROOT_DOMAIN="$IP:64"
CA_FILE="$D/ca.pem"
world_onboard server @alice > "$WORLD_DIR/onboard-alice.out" 2> "$WORLD_DIR/onboard-alice.err" || fail "onboard @alice"
ok "@alice onboarded through the passed root socket"

# --- 2. an atSign added while it runs: the root finds it without a signal
"$ATSERVERD" --data-dir "$D" --add-atsign @bob > "$WORLD_DIR/cram/@bob" 2> "$WORLD_DIR/add.err" || fail "add @bob"
world_onboard server @bob > "$WORLD_DIR/onboard-bob.out" 2> "$WORLD_DIR/onboard-bob.err" ||
        fail "onboard @bob, registered while atserverd ran, without a reload"
grep -qE "Serving @bob on $IP:[0-9]+" "$WORLD_DIR/atserverd.log" || fail "no 'Serving @bob' line"
ok "@bob, registered while atserverd ran, found by the root and onboarded without a reload"

# --- 3. SIGHUP: RELOADING=1, the new atSign served, READY=1
"$ATSERVERD" --data-dir "$D" --add-atsign @carol > "$WORLD_DIR/cram/@carol" 2> "$WORLD_DIR/add.err" || fail "add @carol"
kill -HUP "$PID"
wait_file "$WORLD_DIR/notify.out" '^READY=1 \| STATUS=Serving 3 atSigns' 5 || fail "no READY=1 with 3 atSigns after SIGHUP"
grep -q '^RELOADING=1 | MONOTONIC_USEC=[0-9]*$' "$WORLD_DIR/notify.out" || fail "no RELOADING=1 before it"
grep -qE "Serving @carol on $IP:[0-9]+" "$WORLD_DIR/atserverd.log" && grep -q "Reloaded: 1 new atSign, 3 served" \
        "$WORLD_DIR/atserverd.log" || fail "SIGHUP did not serve @carol"
world_onboard server @carol > "$WORLD_DIR/onboard-carol.out" 2> "$WORLD_DIR/onboard-carol.err" ||
        fail "onboard @carol after SIGHUP"
ok "SIGHUP: RELOADING=1, @carol served, READY=1; @carol onboarded"

# --- 4. STATUS= follows the connections (checked every 5 s)
netns_exec server bash -c "exec 3<>/dev/tcp/$IP/64; exec 4<>/dev/tcp/$IP/64; sleep 8" &
HOLD=$!
PIDS+=("$HOLD")
wait_file "$WORLD_DIR/notify.out" '^STATUS=Serving 3 atSigns, 2 connections; root on port 64$' 8 ||
        fail "STATUS= did not count 2 open connections"
kill "$HOLD" 2>/dev/null
ok "STATUS= counts connections: $(grep '2 connections' "$WORLD_DIR/notify.out" | head -n 1)"

# --- 5. SIGTERM: STOPPING=1, exit 0
kill -TERM "$PID"
wait "$PID"
rc=$?
[ $rc -eq 0 ] || fail "atserverd exited with $rc after SIGTERM"
wait_file "$WORLD_DIR/notify.out" '^STOPPING=1$' 2 || fail "no STOPPING=1"
ok "SIGTERM: STOPPING=1, exit 0"

# --- 6. more than one passed socket is refused
netns_spawn server systemd-socket-activate -l "$IP:64" -l "$IP:65" "$ATSERVERD" --data-dir "$D" \
        --hostname "$IP" > "$WORLD_DIR/two.log" 2>&1
PID=$NETNS_PID
PIDS+=("$PID")
wait_file "$WORLD_DIR/two.log" "Listening on $IP:65" 5 || fail "systemd-socket-activate with two sockets"
netns_exec server bash -c "exec 3<>/dev/tcp/$IP/64"
wait "$PID"
rc=$?
[ $rc -eq 1 ] && grep -q "Got 2 sockets from the service manager; expected one" "$WORLD_DIR/two.log" ||
        fail "two passed sockets: exit $rc, $(tail -n 2 "$WORLD_DIR/two.log")"
ok "two passed sockets refused: exit 1, $(grep -o 'Got 2 sockets.*' "$WORLD_DIR/two.log")"
echo "all socket activation checks passed"
