#!/bin/bash
# relay_splices_and_checks_auth: the srvd relay engine (srvd-test-session) with real sockets:
# authenticated sides are joined and spliced both ways (large checksummed transfer), bad or
# silent sockets are refused while the session keeps serving, a session whose other side never
# arrives expires; then srv <-> srvd <-> srv with encryption: data in == data out and the relay
# never carries the plaintext marker.
set -uo pipefail
BUILD_DIR=${BUILD_DIR:-build}
SOURCE_DIR=${SOURCE_DIR:-.}
KEYS=$BUILD_DIR/src/noports/noports-test-keys
RELAY=$BUILD_DIR/src/srvd/srvd-test-session
SRV=$BUILD_DIR/src/srv/srv
PY=/usr/bin/python3
tmp=$(mktemp -d /tmp/srvd-relay.XXXXXX)
pids=()
failed=0
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        wait 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; failed=$((failed + 1)); }

start_relay() { # out-file args...
        local out=$1; shift
        "$RELAY" "$@" >"$out" 2>>"$tmp/relay.log" &
        pids+=($!)
        relay_pid=$!
        for _ in $(seq 50); do [ -s "$out" ] && break; sleep 0.1; done
        read -r PA PB NONCE <"$out"
}

for k in a b evil; do "$KEYS" genkey "$tmp/$k.priv" "$tmp/$k.pub" || { echo "FAIL genkey"; exit 1; }; done
SID=5f0c8f5e-1c2d-4e8a-9d7b-0a1b2c3d4e5f
CN=2025-01-02T03:04:05.678901

# --- part 1: the engine with two authenticating sides
start_relay "$tmp/ports1" --key-a "$tmp/a.pub" --key-b "$tmp/b.pub" --grace 4 --bind 127.0.0.1 "$SID" "$CN"
[ -n "${PA:-}" ] || { echo "FAIL relay did not start"; cat "$tmp/relay.log"; exit 1; }
"$KEYS" authline "$tmp/a.priv" "$SID" "$CN" "$NONCE" >"$tmp/auth_a"
"$KEYS" authline "$tmp/b.priv" "$SID" "$CN" "$NONCE" >"$tmp/auth_b"
"$KEYS" authline "$tmp/evil.priv" "$SID" "$CN" "$NONCE" >"$tmp/auth_evil"
"$PY" "$SOURCE_DIR/tests/integration/srvd-relay-clients.py" 127.0.0.1 "$PA" "$PB" "$tmp/auth_a" "$tmp/auth_b" "$tmp/auth_evil" || failed=$((failed + 1))
for _ in $(seq 80); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$relay_pid" 2>/dev/null; then fail "session ends after its last connection closes"; else ok "session ends after its last connection closes"; fi

# --- part 2: one side never arrives: the session expires after the grace period
start_relay "$tmp/ports2" --key-a "$tmp/a.pub" --grace 2 --bind 127.0.0.1 "$SID" "$CN"
"$KEYS" authline "$tmp/a.priv" "$SID" "$CN" "$NONCE" >"$tmp/auth_a2"
exec 7<>/dev/tcp/127.0.0.1/"$PA" && cat "$tmp/auth_a2" >&7
start=$(date +%s.%N)
for _ in $(seq 60); do kill -0 "$relay_pid" 2>/dev/null || break; sleep 0.1; done
exec 7>&-
if kill -0 "$relay_pid" 2>/dev/null; then fail "session expires when side B never arrives"; else ok "session expires when side B never arrives ($(echo "$(date +%s.%N) - $start" | bc | cut -c1-4) s)"; fi

# --- part 3: srv <-> srvd <-> srv, encrypted, with a capture at the relay
if [ -x "$SRV" ]; then
        bash "$SOURCE_DIR/tests/integration/srv-through-relay.sh" "$tmp" || failed=$((failed + 1))
else
        echo "skip srv tests: $SRV not built"
fi

cat "$tmp/relay.log" | tail -20 | sed 's/^/     relay: /'
[ "$failed" -eq 0 ]
