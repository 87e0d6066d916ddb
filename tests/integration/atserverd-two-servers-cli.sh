#!/bin/bash
# Two atserverd processes, one root, driven by the real tools (issue 3, acceptance 1): server A
# hosts @alice, server B hosts @bob; both publish their atSigns in one shared --directory file,
# and every client (and B's own outbound lookups, --root-server) uses A's root. Each server has
# its own data directory, its own CA and its own network namespace; the clients trust both CAs.
# (atserverd-two-servers.sh checks the same flows at the protocol level with the python client.)
# Across the servers: @bob reads @alice's public value and the value she shared with him
# (decrypted), @alice reads his public key, and a notification each way reaches the other's
# monitor decrypted: server-to-server lookups and notifications (from + pol) with at_activate
# and at_cli. Skipped when atserverd has no --directory.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
. "$SOURCE_DIR/tests/lib/netns.sh"
. "$SOURCE_DIR/tests/lib/world.sh"

for p in atserverd at_activate at_cli; do
        world_bin "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not built"; exit 77; }
done
SERVER=$(world_bin atserverd)
if ! "$SERVER" --help | grep -q -- '--directory'; then
        echo "SKIP: atserverd cannot share a root directory between processes (--directory)"
        exit 77
fi

WORLD_DIR=$(mktemp -d /tmp/two-XXXXXX)
PIDS=()
APID=
BPID=
cleanup() {
        local p
        for p in "${PIDS[@]}" $APID $BPID; do kill "$p" 2>/dev/null; done
        for p in $APID $BPID; do wait "$p" 2>/dev/null; done
        netns_teardown
        [ -n "${KEEP:-}" ] || rm -rf "$WORLD_DIR"
}
trap cleanup EXIT

fail() {
        echo "FAIL: $*" >&2
        for f in "$WORLD_DIR"/*.err "$WORLD_DIR"/*.out "$WORLD_DIR"/server-*.log; do
                [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
        done
        exit 1
}
ok() { echo "ok: $*"; }

BOB_PORT=6464

# start_a / start_b: (re)start a server in its namespace; A is the root everyone uses.
# (ip netns exec, not the netns_exec function: $! must be atserverd itself, not a subshell.)
start_a() {
        if [ -n "$APID" ]; then
                kill "$APID"
                wait "$APID" || fail "server A did not stop cleanly"
        fi
        ip netns exec "$NETNS_PREFIX-srva" "$SERVER" --data-dir "$WORLD_DIR/a" --listen "$IP_A" --root-port 64 --hostname "$IP_A" \
                --directory "$WORLD_DIR/directory" "$@" >> "$WORLD_DIR/server-a.log" 2>&1 &
        APID=$!
        world_wait_port srva "$IP_A" 64 || fail "server A did not start"
}
start_b() {
        ip netns exec "$NETNS_PREFIX-srvb" "$SERVER" --data-dir "$WORLD_DIR/b" --listen "$IP_B" --root-port 64 --hostname "$IP_B" \
                --directory "$WORLD_DIR/directory" --root-server "$IP_A:64" "$@" >> "$WORLD_DIR/server-b.log" 2>&1 &
        BPID=$!
        world_wait_port srvb "$IP_B" "$BOB_PORT" || fail "server B did not start"
}

onboard() { # HOST @x SECRET
        mkdir -p "$WORLD_DIR/home/$2"
        netns_exec "$1" env HOME="$WORLD_DIR/home/$2" "$(world_bin at_activate)" onboard -a "$2" -c "$3" \
                --root-domain "$IP_A:64" --ca-file "$WORLD_DIR/cas.pem" > /dev/null 2> "$WORLD_DIR/onboard-$2.err"
}

cli() { # HOST @x ARGS...
        local host="$1" a="$2"
        shift 2
        netns_exec "$host" "$(world_bin at_cli)" -a "$a" -k "$WORLD_DIR/home/$a/.atsign/keys/${a}_key.atKeys" \
                --root-domain "$IP_A:64" --ca-file "$WORLD_DIR/cas.pem" "$@"
}

expect_get() { # HOST @x KEY VALUE
        local out
        out=$(cli "$1" "$2" get "$3" 2> "$WORLD_DIR/get.err") || fail "get $3 as $2 failed"
        [ "$out" = "$4" ] || fail "get $3 as $2 gave '$out', not '$4'"
}

wait_log() { # FILE PATTERN SECONDS
        local n=$(( $3 * 10 ))
        while [ $n -gt 0 ] && ! grep -q -- "$2" "$1"; do sleep 0.1; n=$((n - 1)); done
        grep -q -- "$2" "$1"
}

# notify_across SENDER_HOST @sender RECEIVER_HOST @receiver SERVER_LOG KEY VALUE
notify_across() {
        local sh="$1" s="$2" rh="$3" r="$4" log="$5" key="$6" value="$7" mpid id
        cli "$rh" "$r" --json --count 1 --timeout 30 monitor "$key" > "$WORLD_DIR/monitor-$r.out" \
                2> "$WORLD_DIR/monitor-$r.err" &
        mpid=$!
        PIDS+=("$mpid")
        wait_log "$log" "monitor started atsign=$r" 10 || fail "$r's monitor did not start"
        id=$(cli "$sh" "$s" notify "$r" "$key" "$value" 2> "$WORLD_DIR/notify.err") || fail "notify from $s to $r"
        wait "$mpid" || fail "$r's monitor did not get the notification from $s"
        /usr/bin/python3 - "$WORLD_DIR/monitor-$r.out" "$id" "$s" "$r" "$key" "$value" <<'EOF' ||
import json, sys
out, nid, sender, receiver, key, value = sys.argv[1:7]
lines = open(out).read().splitlines()
assert len(lines) == 1, lines
n = json.loads(lines[0])
assert n["id"] == nid, n
assert n["from"] == sender and n["to"] == receiver, n
assert n["key"] == "%s:%s%s" % (receiver, key, sender), n
assert n["value"] == value and n["decrypted"] is True, n
EOF
                fail "$r's monitor output: $(cat "$WORLD_DIR/monitor-$r.out")"
}

netns_setup "two$$" srva srvb alice bob || fail "network namespaces"
IP_A=$(netns_ip srva)
IP_B=$(netns_ip srvb)

# --- registration: @alice on A, @bob on B
"$SERVER" --data-dir "$WORLD_DIR/a" --add-atsign @alice > "$WORLD_DIR/cram-alice" 2> "$WORLD_DIR/add.err" ||
        fail "add @alice to A"
"$SERVER" --data-dir "$WORLD_DIR/b" --add-atsign @bob --port "$BOB_PORT" > "$WORLD_DIR/cram-bob" 2> "$WORLD_DIR/add.err" ||
        fail "add @bob to B"

# --- each server makes its own CA when it first serves; each trusts the other's for its
# server-to-server connections (A is restarted once B's CA exists), clients trust both
start_a
start_b --ca-file "$WORLD_DIR/a/ca.pem"
start_a --ca-file "$WORLD_DIR/b/ca.pem"
cat "$WORLD_DIR/a/ca.pem" "$WORLD_DIR/b/ca.pem" > "$WORLD_DIR/cas.pem"
cmp -s "$WORLD_DIR/a/ca.pem" "$WORLD_DIR/b/ca.pem" && fail "the two servers share a CA"
ok "server A ($IP_A, root, @alice) and server B ($IP_B, @bob) up"

onboard alice @alice "$(cat "$WORLD_DIR/cram-alice")" || fail "onboard @alice"
onboard bob @bob "$(cat "$WORLD_DIR/cram-bob")" || fail "onboard @bob through A's root"
grep -q "atsign=@bob" "$WORLD_DIR/server-b.log" || fail "@bob was not onboarded on server B"
ok "onboarded @alice on A and @bob on B, both through A's root"

# --- lookups across servers
cli alice @alice put public:greeting.demo@alice "hello from A" 2> "$WORLD_DIR/put.err" || fail "put public on A"
expect_get bob @bob public:greeting.demo@alice "hello from A"
BOB_PUBLIC=$(cli bob @bob get public:publickey@bob 2> "$WORLD_DIR/get.err") || fail "@bob reads his own public key"
[ ${#BOB_PUBLIC} -gt 300 ] || fail "@bob's public key is '$BOB_PUBLIC'"
expect_get alice @alice public:publickey@bob "$BOB_PUBLIC"
ok "@bob reads @alice's public value, @alice reads @bob's public key, across servers"

cli alice @alice put @bob:plan.demo@alice "meet at noon" 2> "$WORLD_DIR/put.err" || fail "put shared on A"
expect_get bob @bob @bob:plan.demo@alice "meet at noon"
cli bob @bob put @alice:reply.demo@bob "see you there" 2> "$WORLD_DIR/put.err" || fail "put shared on B"
expect_get alice @alice @alice:reply.demo@bob "see you there"
ok "shared values read across servers, decrypted, both ways"

# --- notifications across servers, both ways
notify_across alice @alice bob @bob "$WORLD_DIR/server-b.log" message.demo "hi bob, from server A"
notify_across bob @bob alice @alice "$WORLD_DIR/server-a.log" answer.demo "hi alice, from server B"
ok "notifications delivered across servers both ways, decrypted"

# --- @bob's server is down when @alice notifies: A keeps the notification and delivers it once
# B is back (A retries queued deliveries at least every 30 s); @bob's monitor, back too, gets it
kill "$BPID"
wait "$BPID" || fail "server B did not stop cleanly"
BPID=
T_DOWN=$(date +%s%3N)
ID=$(cli alice @alice --ttln 600000 notify @bob offline.demo "sent while B was down" 2> "$WORLD_DIR/notify.err") ||
        fail "notify while B is down"
[[ "$ID" =~ ^[0-9a-f-]{36}$ ]] || fail "notify while B is down printed '$ID'"
start_b --ca-file "$WORLD_DIR/a/ca.pem"
cli bob @bob --json --count 1 --timeout 60 --since "$T_DOWN" monitor offline.demo > "$WORLD_DIR/monitor-late.out" \
        2> "$WORLD_DIR/monitor-late.err" || fail "the notification sent while B was down never reached @bob"
/usr/bin/python3 - "$WORLD_DIR/monitor-late.out" "$ID" <<'EOF' || fail "late monitor output: $(cat "$WORLD_DIR/monitor-late.out")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
n = json.loads(lines[0])
assert n["id"] == sys.argv[2] and n["from"] == "@alice" and n["key"] == "@bob:offline.demo@alice", n
assert n["value"] == "sent while B was down" and n["decrypted"] is True, n
EOF
ok "a notification sent while @bob's server was down is delivered once it is back"

# it was the servers that talked to each other, each proving its atSign with pol
grep -q "pol authenticated atsign=@bob .* from=@alice" "$WORLD_DIR/server-b.log" || fail "A never logged in to B with pol"
grep -q "pol authenticated atsign=@alice .* from=@bob" "$WORLD_DIR/server-a.log" || fail "B never logged in to A with pol"
ok "server-to-server connections authenticated with pol both ways"

echo "all two-server checks passed"
