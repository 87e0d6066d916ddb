#!/bin/bash
# Every update atserverd acknowledged survives a restart and a SIGKILL in the middle of a stream
# of 2,000 updates.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-$(dirname "$0")/../../build}
SOURCE_DIR=${SOURCE_DIR:-$(dirname "$0")/../..}
SERVER="$BUILD_DIR/src/atserverd/atserverd"
CLIENT="$SOURCE_DIR/tests/integration/atserverd_client.py"
PY=/usr/bin/python3
T=$(mktemp -d)
PID=
cleanup() {
        [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

start() {
        "$SERVER" --data-dir "$T/data" --root-port 0 > "$T/log" 2>&1 &
        PID=$!
        for _ in $(seq 100); do grep -q "Root directory on" "$T/log" && break; sleep 0.1; done
        ROOT=localhost:$(grep -o "Root directory on 127.0.0.1:[0-9]*" "$T/log" | cut -d: -f2)
}

"$SERVER" --data-dir "$T/data" --add-atsign @alice > "$T/secret"
start
"$PY" "$CLIENT" onboard "$ROOT" "$T/data/ca.pem" @alice "$(cat "$T/secret")" "$T/keys" >/dev/null

# 1. a plain restart keeps what was acknowledged
out=$("$PY" "$CLIENT" cmd "$ROOT" "$T/data/ca.pem" @alice "$T/keys" "update:public:before@alice kept" \
        "update:ttl:3600000:@bob:shared@alice s")
[ "$(grep -c '^data:[0-9]' <<< "$out")" = 2 ] || { echo "FAIL: updates: $out"; exit 1; }
kill "$PID"; wait "$PID" || true
start
out=$("$PY" "$CLIENT" cmd "$ROOT" "$T/data/ca.pem" @alice "$T/keys" "llookup:public:before@alice" "llookup:@bob:shared@alice")
[ "$out" = $'data:kept\ndata:s' ] || { echo "FAIL: after restart: $out"; exit 1; }
echo "ok   restart keeps acknowledged keys"

# 2. SIGKILL in the middle of 2,000 pipelined updates
"$PY" - "$CLIENT" "$ROOT" "$T/data/ca.pem" "$T/keys" "$PID" "$T/acked" <<'PYEOF'
import importlib.util, os, signal, sys
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
root, ca, keys, pid, acked_file = sys.argv[2:7]
s = c.secondary(root, ca, "@alice")
assert c.pkam(s, "@alice", c.load_key(keys, "@alice")) == "data:success"
N = 2000
WINDOW = 20   # updates in flight: the kill lands in the middle of the stream
acked = []
sent = 0
try:
    while len(acked) < N:
        while sent < N and sent - len(acked) < WINDOW:
            s.send("update:k%d.durable@alice value-%d" % (sent, sent))
            sent += 1
        r = s.response(timeout=20)
        if not r.startswith("data:"):
            print("unexpected", r); sys.exit(1)
        acked.append(len(acked))
        if len(acked) == 700:
            os.kill(int(pid), signal.SIGKILL)
except (EOFError, OSError) as e:
    print("stream ended after %d sent: %s" % (sent, repr(e)[:100]))
with open(acked_file, "w") as f:
    f.write("\n".join(str(i) for i in acked))
print("acknowledged before the kill: %d" % len(acked))
if not (700 <= len(acked) < N):
    sys.exit(1)
PYEOF
wait "$PID" || true
start
"$PY" - "$CLIENT" "$ROOT" "$T/data/ca.pem" "$T/keys" "$T/acked" <<'PYEOF'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
root, ca, keys, acked_file = sys.argv[2:6]
acked = [int(x) for x in open(acked_file).read().split()]
s = c.secondary(root, ca, "@alice")
assert c.pkam(s, "@alice", c.load_key(keys, "@alice")) == "data:success"
missing = [i for i in acked if s.cmd("llookup:k%d.durable@alice" % i) != "data:value-%d" % i]
print("checked %d acknowledged updates, %d missing" % (len(acked), len(missing)))
sys.exit(1 if missing else 0)
PYEOF
echo "TEST PASSED"
