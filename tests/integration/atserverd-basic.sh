#!/bin/bash
# atserverd end to end (issue 3, acceptance 1): @alice and @bob are onboarded with at_activate;
# at_cli as @alice puts, gets, scans and deletes public, self and shared keys; @bob reads what
# @alice shared with him (decrypted with their shared key) and her public key; a notification
# from @alice reaches @bob's monitor decrypted. Then a restart of atserverd keeps every value.
# The server and each atSign's device live in their own network namespace; real TLS throughout.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
. "$SOURCE_DIR/tests/lib/netns.sh"
. "$SOURCE_DIR/tests/lib/world.sh"

for p in atserverd at_activate at_cli; do
        world_bin "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not built"; exit 77; }
done

WORLD_DIR=$(mktemp -d /tmp/basic-XXXXXX)
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
        for f in "$WORLD_DIR"/*.err "$WORLD_DIR/atserverd.log"; do
                [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
        done
        exit 1
}
ok() { echo "ok: $*"; }

# cli HOST @x ARGS...: at_cli as @x from namespace HOST with @x's keys file
cli() {
        local host="$1" a="$2"
        shift 2
        netns_exec "$host" "$(world_bin at_cli)" -a "$a" -k "$(world_keys "$a")" \
                --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" "$@"
}

# expect_get HOST @x KEY VALUE: at_cli get prints exactly VALUE
expect_get() {
        local out
        out=$(cli "$1" "$2" get "$3" 2> "$WORLD_DIR/get.err") || fail "get $3 as $2 failed"
        [ "$out" = "$4" ] || fail "get $3 as $2 gave '$out', not '$4'"
}

# expect_missing HOST @x KEY: get fails with a one-line error naming the key
expect_missing() {
        local out
        out=$(cli "$1" "$2" get "$3" 2> "$WORLD_DIR/missing.err") && fail "get $3 as $2 succeeded: '$out'"
        [ -z "$out" ] || fail "a failed get printed '$out'"
        grep -qF "$3" "$WORLD_DIR/missing.err" || fail "the error does not name $3"
}

# wait_log PATTERN SECONDS [COUNT]: until atserverd's log has PATTERN (COUNT times, default 1)
wait_log() {
        local n=$(( $2 * 10 )) want=${3:-1}
        while [ $n -gt 0 ]; do
                [ "$(grep -c -- "$1" "$WORLD_DIR/atserverd.log")" -ge "$want" ] && return 0
                sleep 0.1
                n=$((n - 1))
        done
        return 1
}

netns_setup "bas$$" server alice bob || fail "network namespaces"
world_start_atserver server @alice @bob || fail "atserverd did not start"
world_onboard alice @alice > "$WORLD_DIR/onboard-alice.out" 2> "$WORLD_DIR/onboard-alice.err" || fail "onboard @alice"
world_onboard bob @bob > "$WORLD_DIR/onboard-bob.out" 2> "$WORLD_DIR/onboard-bob.err" || fail "onboard @bob"
ok "onboarded @alice and @bob"

# --- public keys: put, get (by the owner and by @bob), overwrite
cli alice @alice put public:greeting.demo@alice "hello world" 2> "$WORLD_DIR/put.err" || fail "put public"
expect_get alice @alice public:greeting.demo@alice "hello world"
expect_get bob @bob public:greeting.demo@alice "hello world"
cli alice @alice put public:greeting.demo@alice "hello again" 2> "$WORLD_DIR/put.err" || fail "put public again"
expect_get bob @bob public:greeting.demo@alice "hello again"
ok "public key: put, get by owner and by @bob, overwrite"

# values with newlines: a plain one travels base64-encoded with encoding:base64 (as upstream's
# client sends it), a shared one inside its ciphertext; both read back exactly
MULTI=$'first line\nsecond line\n\tthird, indented'
cli alice @alice put public:poem.demo@alice "$MULTI" 2> "$WORLD_DIR/put.err" || fail "put multi-line public"
expect_get bob @bob public:poem.demo@alice "$MULTI"
expect_get alice @alice public:poem.demo@alice "$MULTI"
cli alice @alice put @bob:poem.demo@alice "$MULTI" 2> "$WORLD_DIR/put.err" || fail "put multi-line shared"
expect_get bob @bob @bob:poem.demo@alice "$MULTI"
cli alice @alice delete public:poem.demo@alice 2> "$WORLD_DIR/delete.err" || fail "delete multi-line public"
cli alice @alice delete @bob:poem.demo@alice 2> "$WORLD_DIR/delete.err" || fail "delete multi-line shared"
ok "multi-line values, public and shared, read back exactly"

# --- self keys: stored encrypted, read back in clear
cli alice @alice put note.demo@alice "only for alice" 2> "$WORLD_DIR/put.err" || fail "put self"
expect_get alice @alice note.demo@alice "only for alice"
ok "self key: put, get"

# --- shared keys: @alice shares with @bob, @bob reads it decrypted
cli alice @alice put @bob:plan.demo@alice "meet at noon" 2> "$WORLD_DIR/put.err" || fail "put shared"
expect_get alice @alice @bob:plan.demo@alice "meet at noon"
expect_get bob @bob @bob:plan.demo@alice "meet at noon"
ok "shared key: @bob reads what @alice shared, decrypted"

# the server only ever saw ciphertext of self and shared values (public ones are plain: the
# same search finds those, so it would find the others too)
stored() { grep -aqF -- "$1" "$WORLD_DIR/atserver"/atserverd.db*; }
stored "hello again" || fail "the public value is not in the server's store files"
stored "only for alice" && fail "the self value is stored in clear"
stored "meet at noon" && fail "the shared value is stored in clear"
ok "self and shared values reach the server encrypted"

# --- scan: exactly the keys we made (and the onboarding's public keys), hidden ones only on request
cli alice @alice scan '\.demo@alice$' > "$WORLD_DIR/scan.out" 2> "$WORLD_DIR/scan.err" || fail "scan"
printf '%s\n' @bob:plan.demo@alice note.demo@alice public:greeting.demo@alice | sort > "$WORLD_DIR/scan.want"
sort "$WORLD_DIR/scan.out" | cmp -s - "$WORLD_DIR/scan.want" ||
        fail "scan gave: $(tr '\n' ' ' < "$WORLD_DIR/scan.out")"
cli alice @alice scan > "$WORLD_DIR/scanall.out" 2> "$WORLD_DIR/scan.err" || fail "scan without regex"
grep -qFx public:publickey@alice "$WORLD_DIR/scanall.out" || fail "scan does not list public:publickey@alice"
grep -qFx @bob:plan.demo@alice "$WORLD_DIR/scanall.out" || fail "full scan does not list @bob:plan.demo@alice"
ok "scan lists exactly the keys put"

# --- delete
cli alice @alice delete note.demo@alice 2> "$WORLD_DIR/delete.err" || fail "delete self"
cli alice @alice delete @bob:plan.demo@alice 2> "$WORLD_DIR/delete.err" || fail "delete shared"
expect_missing alice @alice note.demo@alice
expect_missing bob @bob @bob:plan.demo@alice
cli alice @alice scan '\.demo@alice$' > "$WORLD_DIR/scan.out" 2> "$WORLD_DIR/scan.err" || fail "scan after delete"
[ "$(cat "$WORLD_DIR/scan.out")" = public:greeting.demo@alice ] ||
        fail "scan after delete gave: $(tr '\n' ' ' < "$WORLD_DIR/scan.out")"
ok "delete: gone for the owner and for @bob, no longer scanned"

# --- a notification from @alice reaches @bob's monitor, decrypted
cli bob @bob --json --count 1 --timeout 30 monitor 'message\.demo' > "$WORLD_DIR/monitor.out" \
        2> "$WORLD_DIR/monitor.err" &
MPID=$!
PIDS+=("$MPID")
wait_log "monitor started atsign=@bob" 10 || fail "@bob's monitor did not start"
# past the first heartbeat (noop:0 every 10 s, answer due within a third of that): the monitor
# must stay on its one connection
sleep 12
ID=$(cli alice @alice notify @bob message.demo "hi bob, it's alice" 2> "$WORLD_DIR/notify.err") || fail "notify"
[[ "$ID" =~ ^[0-9a-f-]{36}$ ]] || fail "notify printed '$ID', not an id"
wait "$MPID" || fail "@bob's monitor did not get the notification"
/usr/bin/python3 - "$WORLD_DIR/monitor.out" "$ID" <<'EOF' || fail "monitor output: $(cat "$WORLD_DIR/monitor.out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
n = json.loads(lines[0])
assert n["id"] == sys.argv[2], n
assert n["from"] == "@alice" and n["to"] == "@bob", n
assert n["key"] == "@bob:message.demo@alice", n
assert n["value"] == "hi bob, it's alice", n
assert n["decrypted"] is True, n
EOF
[ "$(grep -c "monitor started atsign=@bob" "$WORLD_DIR/atserverd.log")" = 1 ] || fail "@bob's monitor reconnected"
grep -Eiq "lost|heartbeat|refused" "$WORLD_DIR/monitor.err" && fail "monitor complained: $(cat "$WORLD_DIR/monitor.err")"
ok "notification from @alice reached @bob's monitor, decrypted, on a monitor alive past a heartbeat"

# --- a restart keeps every acknowledged value
cli alice @alice put @bob:after.demo@alice "still here" 2> "$WORLD_DIR/put.err" || fail "put before restart"
cli alice @alice put note2.demo@alice "mine too" 2> "$WORLD_DIR/put.err" || fail "put before restart"
# @bob's monitor outlives the restart: it reconnects and resumes
cli bob @bob --json --count 1 --timeout 60 monitor 'afterrestart\.demo' > "$WORLD_DIR/monitor-r.out" \
        2> "$WORLD_DIR/monitor-r.err" &
MPID=$!
PIDS+=("$MPID")
wait_log "monitor started atsign=@bob" 10 2 || fail "@bob's second monitor did not start"
# the world's atserverd runs under a subshell: find the process itself in its namespace
OLD=$(ip netns pids "$NETNS_PREFIX-server")
[ "$(wc -w <<< "$OLD")" = 1 ] && [ "$(cat /proc/"$OLD"/comm)" = atserverd ] || fail "cannot find atserverd: '$OLD'"
kill "$OLD"
n=100
while [ $n -gt 0 ] && kill -0 "$OLD" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
kill -0 "$OLD" 2>/dev/null && fail "atserverd did not stop on SIGTERM"
grep -q "Shutting down" "$WORLD_DIR/atserverd.log" || fail "atserverd did not shut down cleanly"
mv "$WORLD_DIR/atserverd.log" "$WORLD_DIR/atserverd.log.1"
ip netns exec "$NETNS_PREFIX-server" "$(world_bin atserverd)" --data-dir "$WORLD_DIR/atserver" \
        --listen "$(netns_ip server)" --root-port 64 --hostname "$(netns_ip server)" > "$WORLD_DIR/atserverd.log" 2>&1 &
NEW=$!
PIDS+=("$NEW")
world_wait_port server "$(netns_ip server)" 64 || fail "atserverd did not restart"
kill -0 "$NEW" 2>/dev/null || fail "the restarted atserverd exited"
expect_get alice @alice public:greeting.demo@alice "hello again"
expect_get alice @alice note2.demo@alice "mine too"
expect_get bob @bob @bob:after.demo@alice "still here"
cli alice @alice notify @bob afterrestart.demo "told after the restart" > /dev/null 2> "$WORLD_DIR/notify.err" ||
        fail "notify after the restart"
wait "$MPID" || fail "@bob's monitor did not get the notification after the restart"
[ "$(/usr/bin/python3 -c 'import json,sys; n=json.loads(open(sys.argv[1]).read()); print(n["key"], n["value"])' \
        "$WORLD_DIR/monitor-r.out")" = "@bob:afterrestart.demo@alice told after the restart" ] ||
        fail "monitor after the restart saw: $(cat "$WORLD_DIR/monitor-r.out")"
ok "after a restart of atserverd every value is still there, and @bob's monitor came back by itself"

echo "all basic checks passed"
