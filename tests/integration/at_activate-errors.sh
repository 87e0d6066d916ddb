#!/bin/bash
# at_activate onboard says what went wrong: a wrong CRAM secret is called that, an unreachable
# root server is not (it is named instead), and neither leaves a keys file behind.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-$(dirname "$0")/../../build}
SERVER="$BUILD_DIR/src/atserverd/atserverd"
ACT="$BUILD_DIR/src/at_activate/at_activate"
T=$(mktemp -d)
PID=
cleanup() {
        [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; cat "$T/err" 2>/dev/null; exit 1; }

"$SERVER" --data-dir "$T/data" --add-atsign @alice > "$T/secret"
"$SERVER" --data-dir "$T/data" --root-port 0 > "$T/log" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -qs "Root directory on" "$T/log" && break; sleep 0.1; done
ROOT=127.0.0.1:$(grep -o "Root directory on 127.0.0.1:[0-9]*" "$T/log" | cut -d: -f2)
CLOSED=127.0.0.1:$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

"$ACT" onboard -a @alice -c "not-the-secret" --root-domain "$ROOT" --ca-file "$T/data/ca.pem" \
        -k "$T/a.atKeys" 2> "$T/err" && fail "onboard with a wrong secret succeeded"
grep -q "refused the CRAM secret" "$T/err" || fail "a wrong secret is not called one"
[ -e "$T/a.atKeys" ] && fail "a keys file was written"
echo "ok   wrong CRAM secret: $(tail -1 "$T/err")"

"$ACT" onboard -a @alice -c "$(cat "$T/secret")" --root-domain "$CLOSED" --ca-file "$T/data/ca.pem" \
        -k "$T/b.atKeys" 2> "$T/err" && fail "onboard through a closed port succeeded"
grep -q "CRAM\|wrong secret\|already activated" "$T/err" && fail "an unreachable root server is blamed on the secret"
grep -q "root server $CLOSED" "$T/err" || fail "the unreachable root server is not named"
[ -e "$T/b.atKeys" ] && fail "a keys file was written"
echo "ok   unreachable root: $(tail -1 "$T/err")"

"$ACT" onboard -a @alice -c "$(cat "$T/secret")" --root-domain "$ROOT" --ca-file "$T/data/ca.pem" \
        -k "$T/c.atKeys" > /dev/null 2> "$T/err" || fail "onboard with the right secret"
[ "$(stat -c %a "$T/c.atKeys")" = 600 ] || fail "keys file mode"
echo "ok   right secret: keys file 0600"
echo "TEST PASSED"
