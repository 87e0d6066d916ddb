#!/bin/bash
# Part of relay_splices_and_checks_auth (called by srvd-relay.sh with its temp dir, keys a/b):
# client srv <-> srvd engine <-> daemon srv <-> echo service, encrypted end to end, in single
# and multi mode, baseline and twin keys. Every byte the relay receives is recorded (a tap in
# front of each relay port) and must not contain the plaintext marker.
set -uo pipefail
tmp=$1
BUILD_DIR=${BUILD_DIR:-build}
SOURCE_DIR=${SOURCE_DIR:-.}
KEYS=$BUILD_DIR/src/noports/noports-test-keys
RELAY=$BUILD_DIR/src/srvd/srvd-test-session
SRV=$BUILD_DIR/src/srv/srv
TOOLS="/usr/bin/python3 $SOURCE_DIR/tests/integration/srv-tools.py"
pids=()
failed=0
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done' EXIT
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }
wait_file() { for _ in $(seq 50); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
wait_started() { for _ in $(seq 50); do grep -q "rv started successfully" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

$TOOLS echo "$tmp/echo.port" & pids+=($!)
wait_file "$tmp/echo.port" || { fail "echo service"; exit 1; }
ECHO=$(cat "$tmp/echo.port")

run_case() { # name multi(0/1) twin(0/1) conns
        local name=$1 multi=$2 twin=$3 conns=$4 sid cn pa pb nonce lp
        sid=$(cat /proc/sys/kernel/random/uuid); cn=$(date +%Y-%m-%dT%H:%M:%S.%6N)
        rm -f "$tmp/cap" "$tmp/tapa.port" "$tmp/tapb.port" "$tmp/ports" "$tmp"/srv-*.log
        "$RELAY" --key-a "$tmp/a.pub" --key-b "$tmp/b.pub" --grace 5 --bind 127.0.0.1 "$sid" "$cn" \
                >"$tmp/ports" 2>>"$tmp/relay-srv.log" & pids+=($!)
        wait_file "$tmp/ports" || { fail "$name: relay start"; return; }
        read -r pa pb nonce <"$tmp/ports"
        $TOOLS tap "$tmp/tapa.port" "$pa" "$tmp/cap" & pids+=($!)
        $TOOLS tap "$tmp/tapb.port" "$pb" "$tmp/cap" & pids+=($!)
        wait_file "$tmp/tapa.port" && wait_file "$tmp/tapb.port" || { fail "$name: tap"; return; }
        read -r k iv < <("$KEYS" sessionkey)
        local env=(RV_AES="$k" RV_IV="$iv")
        if [ "$twin" = 1 ]; then
                read -r k2 iv2 < <("$KEYS" sessionkey)
                env=(RV_AES_C2D="$k" RV_IV_C2D="$iv" RV_AES_D2C="$k2" RV_IV_D2C="$iv2")
        fi
        local mflag=(); [ "$multi" = 1 ] && mflag=(--multi)
        env "${env[@]}" RV_AUTH="$("$KEYS" authline "$tmp/b.priv" "$sid" "$cn" "$nonce")" \
                "$SRV" -h 127.0.0.1 -p "$(cat "$tmp/tapb.port")" --local-port "$ECHO" --local-host 127.0.0.1 \
                --rv-auth --rv-e2ee --timeout 5 "${mflag[@]}" 2>"$tmp/srv-d.log" & pids+=($!)
        wait_started "$tmp/srv-d.log" || { fail "$name: daemon srv did not start"; cat "$tmp/srv-d.log"; return; }
        lp=$(free_port)
        env "${env[@]}" RV_AUTH="$("$KEYS" authline "$tmp/a.priv" "$sid" "$cn" "$nonce")" \
                "$SRV" -h 127.0.0.1 -p "$(cat "$tmp/tapa.port")" --local-port "$lp" --local-host 127.0.0.1 \
                --bind-local-port --rv-auth --rv-e2ee --timeout 5 "${mflag[@]}" 2>"$tmp/srv-c.log" & pids+=($!)
        wait_started "$tmp/srv-c.log" || { fail "$name: client srv did not start"; cat "$tmp/srv-c.log"; return; }
        if $TOOLS client "$lp" 4 "$conns"; then ok "$name: data in == data out ($conns x 4 MiB echoed)"; else
                fail "$name: data in == data out"; sed 's/^/     /' "$tmp/srv-c.log" "$tmp/srv-d.log" | tail -20; fi
        local size; size=$(stat -c %s "$tmp/cap" 2>/dev/null || echo 0)
        if [ "$size" -gt $((conns * 8 * 1024 * 1024)) ] && ! grep -q "NOPORTS-PLAINTEXT-MARKER" "$tmp/cap"; then
                ok "$name: the relay saw $size bytes, never the plaintext marker"
        else
                fail "$name: relay capture ($size bytes) is missing or contains the plaintext marker"
        fi
}

run_case "single, baseline key" 0 0 1
run_case "single, twin keys" 0 1 1
run_case "multi, baseline key" 1 0 3
run_case "multi, twin keys" 1 1 3

# without encryption the marker is visible at the relay: proves the capture works
sid=$(cat /proc/sys/kernel/random/uuid); cn=x
"$RELAY" --grace 3 --bind 127.0.0.1 "$sid" "$cn" >"$tmp/ports" 2>>"$tmp/relay-srv.log" & pids+=($!)
wait_file "$tmp/ports"; read -r pa pb nonce <"$tmp/ports"
rm -f "$tmp/cap" "$tmp/tapa.port"
$TOOLS tap "$tmp/tapa.port" "$pa" "$tmp/cap" & pids+=($!)
wait_file "$tmp/tapa.port"
"$SRV" -h 127.0.0.1 -p "$pb" --local-port "$ECHO" --local-host 127.0.0.1 --timeout 3 2>"$tmp/srv-d.log" & pids+=($!)
wait_started "$tmp/srv-d.log"
lp=$(free_port)
"$SRV" -h 127.0.0.1 -p "$(cat "$tmp/tapa.port")" --local-port "$lp" --local-host 127.0.0.1 --bind-local-port --timeout 3 \
        2>"$tmp/srv-c.log" & pids+=($!)
wait_started "$tmp/srv-c.log"
if $TOOLS client "$lp" 1 1 && grep -q "NOPORTS-PLAINTEXT-MARKER" "$tmp/cap"; then
        ok "control: unencrypted traffic shows the marker in the capture"
else
        fail "control: unencrypted traffic through the relay"
fi

# the pairing order multi mode relies on
sid=$(cat /proc/sys/kernel/random/uuid); cn=$(date +%Y-%m-%dT%H:%M:%S.%6N)
rm -f "$tmp/ports"
"$RELAY" --key-a "$tmp/a.pub" --key-b "$tmp/b.pub" --grace 3 --bind 127.0.0.1 "$sid" "$cn" \
        >"$tmp/ports" 2>>"$tmp/relay-srv.log" & pids+=($!)
wait_file "$tmp/ports"; read -r pa pb nonce <"$tmp/ports"
"$KEYS" authline "$tmp/a.priv" "$sid" "$cn" "$nonce" >"$tmp/order_a"
"$KEYS" authline "$tmp/b.priv" "$sid" "$cn" "$nonce" >"$tmp/order_b"
/usr/bin/python3 "$SOURCE_DIR/tests/integration/relay-pairing-order.py" "$pa" "$pb" "$tmp/order_a" "$tmp/order_b" ||
        failed=$((failed + 1))

# clear multi mode: srv splices in the kernel, like the relay. Several connections must arrive
# intact, and a local service that resets its connection mid-transfer must end that connection
# only: splice(2) raises SIGPIPE on a reset socket, which once killed the daemon srv (and with it
# the control channel, so every later connection of the session failed).
cat >"$tmp/reset-once.py" <<'PY'
import os, socket, struct, sys, threading, time
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0)); ls.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(ls.getsockname()[1])); os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def echo(c):
    while (d := c.recv(1 << 16)):
        c.sendall(d)
    c.close()
first = True
while True:
    c, _ = ls.accept()
    if first:  # read a little, end our direction, then reset while the sender is still going
        first = False
        c.recv(1 << 16)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
        continue
    threading.Thread(target=echo, args=(c,), daemon=True).start()
PY
cat >"$tmp/flood.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
chunk = b"x" * (1 << 20)
try:
    for _ in range(256):
        s.sendall(chunk)
except OSError:
    pass
time.sleep(0.5)
PY
rm -f "$tmp/reset.port"
/usr/bin/python3 "$tmp/reset-once.py" "$tmp/reset.port" & pids+=($!)
wait_file "$tmp/reset.port"
sid=$(cat /proc/sys/kernel/random/uuid); cn=$(date +%Y-%m-%dT%H:%M:%S.%6N)
rm -f "$tmp/ports" "$tmp"/srv-*.log
"$RELAY" --key-a "$tmp/a.pub" --key-b "$tmp/b.pub" --grace 5 --bind 127.0.0.1 "$sid" "$cn" \
        >"$tmp/ports" 2>>"$tmp/relay-srv.log" & pids+=($!)
wait_file "$tmp/ports"; read -r pa pb nonce <"$tmp/ports"
RV_AUTH="$("$KEYS" authline "$tmp/b.priv" "$sid" "$cn" "$nonce")" "$SRV" -h 127.0.0.1 -p "$pb" \
        --local-port "$(cat "$tmp/reset.port")" --local-host 127.0.0.1 --rv-auth --multi --timeout 5 \
        2>"$tmp/srv-d.log" & pids+=($!); dpid=$!
wait_started "$tmp/srv-d.log"
lp=$(free_port)
RV_AUTH="$("$KEYS" authline "$tmp/a.priv" "$sid" "$cn" "$nonce")" "$SRV" -h 127.0.0.1 -p "$pa" --local-port "$lp" \
        --local-host 127.0.0.1 --bind-local-port --rv-auth --multi --timeout 5 2>"$tmp/srv-c.log" & pids+=($!)
wait_started "$tmp/srv-c.log"
/usr/bin/python3 "$tmp/flood.py" "$lp"
if kill -0 "$dpid" 2>/dev/null && $TOOLS client "$lp" 4 3; then
        ok "clear multi: a local reset ends one connection; the next 3 x 4 MiB arrive intact"
else
        fail "clear multi: connections after a local reset"; sed 's/^/     /' "$tmp/srv-c.log" "$tmp/srv-d.log" | tail -20
fi
[ "$failed" -eq 0 ]
