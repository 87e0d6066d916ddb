#!/bin/bash
# Expiry (issue 3, acceptance 3): a key put with a ttl is readable, then gone (get and scan);
# a notification sent while @bob's monitor is away is delivered when the monitor comes back
# within the notification's ttln, and one whose ttln has passed is not. atserverd, at_activate
# and at_cli over real TLS, server and devices in their own network namespaces.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
. "$SOURCE_DIR/tests/lib/netns.sh"
. "$SOURCE_DIR/tests/lib/world.sh"

for p in atserverd at_activate at_cli; do
        world_bin "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not built"; exit 77; }
done

WORLD_DIR=$(mktemp -d /tmp/expiry-XXXXXX)
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
        for f in "$WORLD_DIR"/*.err "$WORLD_DIR"/*.out "$WORLD_DIR/atserverd.log"; do
                [ -f "$f" ] && { echo "--- $f" >&2; tail -n 30 "$f" >&2; }
        done
        exit 1
}
ok() { echo "ok: $*"; }

cli() { # HOST @x ARGS...
        local host="$1" a="$2"
        shift 2
        netns_exec "$host" "$(world_bin at_cli)" -a "$a" -k "$(world_keys "$a")" \
                --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" "$@"
}

wait_log() { # PATTERN SECONDS: until atserverd's log has PATTERN (COUNT times, default 1)
        local n=$(( $2 * 10 )) want=${3:-1}
        while [ $n -gt 0 ]; do
                [ "$(grep -c -- "$1" "$WORLD_DIR/atserverd.log")" -ge "$want" ] && return 0
                sleep 0.1
                n=$((n - 1))
        done
        return 1
}

now_ms() { date +%s%3N; }

# monitor_lines FILE: "key value" of each notification in a --json monitor output
monitor_lines() {
        /usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    n = json.loads(line)
    assert n["decrypted"] is True, n
    print(n["key"], n["value"])' "$1"
}

netns_setup "exp$$" server alice bob || fail "network namespaces"
world_start_atserver server @alice @bob || fail "atserverd did not start"
world_onboard alice @alice > /dev/null 2> "$WORLD_DIR/onboard-alice.err" || fail "onboard @alice"
world_onboard bob @bob > /dev/null 2> "$WORLD_DIR/onboard-bob.err" || fail "onboard @bob"
ok "onboarded @alice and @bob"

# --- ttl: readable at first, gone once it has passed (for the owner, for @bob, and in scans)
T_PUT=$(now_ms) # before the puts: no value expires before T_PUT + 5000
cli alice @alice --ttl 5000 put public:brief.demo@alice "soon gone" 2> "$WORLD_DIR/put.err" || fail "put with ttl"
cli alice @alice --ttl 5000 put @bob:brief.demo@alice "also soon gone" 2> "$WORLD_DIR/put.err" || fail "put shared with ttl"
T_LAST=$(now_ms) # after the puts: every ttl has passed at T_LAST + 5000
cli alice @alice put public:lasting.demo@alice "stays" 2> "$WORLD_DIR/put.err" || fail "put without ttl"
out=$(cli bob @bob get public:brief.demo@alice 2> "$WORLD_DIR/get.err") || fail "get before the ttl passed"
[ "$out" = "soon gone" ] || fail "get before the ttl gave '$out'"
out=$(cli bob @bob get @bob:brief.demo@alice 2> "$WORLD_DIR/get.err") || fail "get shared before the ttl passed"
[ "$out" = "also soon gone" ] || fail "get shared before the ttl gave '$out'"
[ $(( $(now_ms) - T_PUT )) -lt 5000 ] || fail "too slow to observe the values before their ttl (machine overloaded?)"
wait_ms=$(( T_LAST + 5300 - $(now_ms) ))
[ $wait_ms -gt 0 ] && sleep "$(( wait_ms / 1000 )).$(printf %03d $(( wait_ms % 1000 )))"
cli bob @bob get public:brief.demo@alice > "$WORLD_DIR/expired.out" 2> "$WORLD_DIR/expired.err" &&
        fail "get after the ttl succeeded: $(cat "$WORLD_DIR/expired.out")"
cli alice @alice get @bob:brief.demo@alice > "$WORLD_DIR/expired.out" 2> "$WORLD_DIR/expired.err" &&
        fail "get of the shared key after the ttl succeeded"
cli alice @alice scan '\.demo@alice$' > "$WORLD_DIR/scan.out" 2> "$WORLD_DIR/scan.err" || fail "scan"
[ "$(cat "$WORLD_DIR/scan.out")" = public:lasting.demo@alice ] ||
        fail "scan after the ttl gave: $(tr '\n' ' ' < "$WORLD_DIR/scan.out")"
out=$(cli bob @bob get public:lasting.demo@alice 2> "$WORLD_DIR/get.err") || fail "the key without ttl is gone"
[ "$out" = stays ] || fail "the key without ttl reads '$out'"
ok "ttl: value readable, then gone for owner, @bob and scan; the key without ttl stays"

# --- @bob's monitor is there for the first notification, then goes away
cli bob @bob --json --count 1 --timeout 30 monitor '\.demo' > "$WORLD_DIR/monitor1.out" 2> "$WORLD_DIR/monitor1.err" &
MPID=$!
PIDS+=("$MPID")
wait_log "monitor started atsign=@bob" 10 || fail "@bob's monitor did not start"
cli alice @alice notify @bob first.demo "while you watch" > /dev/null 2> "$WORLD_DIR/notify.err" || fail "notify first"
wait "$MPID" || fail "@bob's monitor did not get the first notification"
[ "$(monitor_lines "$WORLD_DIR/monitor1.out")" = "@bob:first.demo@alice while you watch" ] ||
        fail "first monitor saw: $(cat "$WORLD_DIR/monitor1.out")"
SEEN=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["epochMillis"])' \
        "$WORLD_DIR/monitor1.out") || fail "no epochMillis in the first notification"
ok "monitor got the first notification, then left"

# --- while it is away: one notification that expires before it returns, one that does not
cli alice @alice --ttln 1500 notify @bob brief.demo "you will miss this" > /dev/null 2> "$WORLD_DIR/notify.err" ||
        fail "notify brief"
cli alice @alice --ttln 600000 notify @bob waiting.demo "waiting for you" > /dev/null 2> "$WORLD_DIR/notify.err" ||
        fail "notify waiting"
sleep 2.5

# --- the monitor comes back, resuming after the last notification it saw
cli bob @bob --json --timeout 4 --since "$SEEN" monitor '\.demo' > "$WORLD_DIR/monitor2.out" 2> "$WORLD_DIR/monitor2.err" ||
        fail "second monitor failed"
[ "$(monitor_lines "$WORLD_DIR/monitor2.out")" = "@bob:waiting.demo@alice waiting for you" ] ||
        fail "returning monitor saw: $(cat "$WORLD_DIR/monitor2.out")"
ok "returning monitor got the waiting notification, not the expired one nor the one seen before"

echo "all expiry checks passed"
