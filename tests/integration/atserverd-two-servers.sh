#!/bin/bash
# Two atserverd processes, @alice on one and @bob on the other, both in one directory: a value
# @bob shares with @alice is read by @alice through her own server (from + pol), and @alice's
# notification reaches @bob's monitor on the other process.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-$(dirname "$0")/../../build}
SOURCE_DIR=${SOURCE_DIR:-$(dirname "$0")/../..}
SERVER="$BUILD_DIR/src/atserverd/atserverd"
CLIENT="$SOURCE_DIR/tests/integration/atserverd_client.py"
PY=/usr/bin/python3
T=$(mktemp -d)
PA= PB=
cleanup() {
        for p in $PA $PB; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        rm -rf "$T"
}
trap cleanup EXIT
root_of() { echo "localhost:$(grep -o "Root directory on 127.0.0.1:[0-9]*" "$1" | cut -d: -f2)"; }
wait_log() { for _ in $(seq 100); do grep -q "Root directory on" "$1" && return 0; sleep 0.1; done; return 1; }

"$SERVER" --data-dir "$T/a" --add-atsign @alice > "$T/secret-a"
"$SERVER" --data-dir "$T/b" --add-atsign @bob > "$T/secret-b"
"$SERVER" --data-dir "$T/a" --root-port 0 --directory "$T/directory" > "$T/log-a" 2>&1 &
PA=$!
wait_log "$T/log-a"
# the second process presents the first one's certificate, so one CA covers both
"$SERVER" --data-dir "$T/b" --root-port 0 --directory "$T/directory" --tls-cert "$T/a/server.pem" \
        --tls-key "$T/a/server-key.pem" --ca-file "$T/a/ca.pem" > "$T/log-b" 2>&1 &
PB=$!
wait_log "$T/log-b"
RA=$(root_of "$T/log-a")
RB=$(root_of "$T/log-b")
CA="$T/a/ca.pem"

"$PY" "$CLIENT" onboard "$RA" "$CA" @alice "$(cat "$T/secret-a")" "$T/keys" >/dev/null
"$PY" "$CLIENT" onboard "$RB" "$CA" @bob "$(cat "$T/secret-b")" "$T/keys" >/dev/null
# either root finds either atSign
"$PY" - "$CLIENT" "$RA" "$RB" "$CA" <<'PYEOF'
import importlib.util, sys
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
ra, rb, ca = sys.argv[2:5]
assert c.root_lookup(ra, ca, "@bob") == c.root_lookup(rb, ca, "@bob")
assert c.root_lookup(rb, ca, "@alice") == c.root_lookup(ra, ca, "@alice")
PYEOF
echo "ok   each root answers for both processes"

out=$("$PY" "$CLIENT" cmd "$RB" "$CA" @bob "$T/keys" "update:@alice:greeting@bob hello-alice")
[[ $out == data:* ]] || { echo "FAIL: update: $out"; exit 1; }
out=$("$PY" "$CLIENT" cmd "$RA" "$CA" @alice "$T/keys" "lookup:greeting@bob")
[ "$out" = "data:hello-alice" ] || { echo "FAIL: remote lookup: $out"; exit 1; }
echo "ok   @alice reads what @bob shared with her, across processes"

"$PY" - "$CLIENT" "$RA" "$RB" "$CA" "$T/keys" <<'PYEOF'
import importlib.util, json, sys, time
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
ra, rb, ca, keys = sys.argv[2:6]
m = c.secondary(rb, ca, "@bob")
assert c.pkam(m, "@bob", c.load_key(keys, "@bob")) == "data:success"
m.send("monitor msg")
a = c.secondary(ra, ca, "@alice")
assert c.pkam(a, "@alice", c.load_key(keys, "@alice")) == "data:success"
r = a.cmd("notify:id:n-1:ttln:60000:@bob:msg.test@alice:hi-bob")
assert r == "data:n-1", r
line = m.read_until(lambda b: b[:b.find(b"\n")].decode() if b"\n" in b else None, timeout=15)
assert line.startswith("notification: "), line
n = json.loads(line[len("notification: "):])
assert n["id"] == "n-1" and n["from"] == "@alice" and n["to"] == "@bob" and n["value"] == "hi-bob", n
for _ in range(50):
    st = a.cmd("notify:status:n-1")
    if st == "data:delivered":
        break
    time.sleep(0.1)
assert st == "data:delivered", st
print("ok   notification from @alice reached @bob's monitor on the other process; status delivered")
PYEOF
grep -q "pol authenticated atsign=@bob" "$T/log-b" || { echo "FAIL: no pol login logged"; exit 1; }
echo "TEST PASSED"
