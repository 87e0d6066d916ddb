#!/bin/bash
# APKAM end to end (issue 3, acceptance 4): @alice is onboarded on one device; a second device
# gets its own keys file with otp + enroll + approve and logs in with it; after revoke it can no
# longer log in while the first device still can. A denied request and a wrong passcode give no
# keys file. atserverd and at_activate over real TLS, each device in its own network namespace.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
. "$SOURCE_DIR/tests/lib/netns.sh"
. "$SOURCE_DIR/tests/lib/world.sh"

for p in atserverd at_activate; do
        world_bin "$p" >/dev/null 2>&1 || { echo "SKIP: $p is not built"; exit 77; }
done

WORLD_DIR=$(mktemp -d /tmp/apkam-XXXXXX)
PIDS=()
cleanup() {
        local p
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
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

act() { # HOST at_activate-args...
        local host="$1"
        shift
        netns_exec "$host" "$(world_bin at_activate)" "$@" --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE"
}

mode_of() { stat -c %a "$1"; }

# enroll_start HOST NAME PASSCODE: starts an enrollment in the background, sets EPID and EID
enroll_start() {
        local host="$1" name="$2" passcode="$3" n=300
        act "$host" enroll -a @alice -s "$passcode" -p noports -d "$name" -n "sshnp:rw,sshrvd:rw" \
                -k "$WORLD_DIR/$name.atKeys" --poll-interval 500ms \
                > "$WORLD_DIR/$name.out" 2> "$WORLD_DIR/$name.err" &
        EPID=$!
        PIDS+=("$EPID")
        while [ $n -gt 0 ] && ! grep -qs '^Enrollment ID: ' "$WORLD_DIR/$name.out"; do
                kill -0 "$EPID" 2>/dev/null || fail "enroll for $name exited early"
                sleep 0.1
                n=$((n - 1))
        done
        EID=$(sed -n 's/^Enrollment ID: //p' "$WORLD_DIR/$name.out")
        [ -n "$EID" ] || fail "enroll for $name printed no enrollment id"
}

# wait_exit PID SECONDS: the exit status of PID, or fails after SECONDS
wait_exit() {
        local pid="$1" n=$(( $2 * 10 ))
        while [ $n -gt 0 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.1; n=$((n - 1)); done
        kill -0 "$pid" 2>/dev/null && fail "process $pid still running after $2 s"
        wait "$pid"
}

netns_setup "apk$$" server dev1 dev2 dev3 || fail "network namespaces"
world_start_atserver server @alice || fail "atserverd did not start"

# --- onboarding
world_onboard dev1 @alice > "$WORLD_DIR/onboard.out" 2> "$WORLD_DIR/onboard.err" || fail "onboard @alice"
K1=$(world_keys @alice)
[ -f "$K1" ] || fail "no keys file after onboarding"
[ "$(mode_of "$K1")" = 600 ] || fail "keys file mode is $(mode_of "$K1"), not 600"
ok "onboarded @alice, keys file 0600"

cp "$K1" "$WORLD_DIR/k1.copy"
if world_onboard dev1 @alice > /dev/null 2> "$WORLD_DIR/onboard2.err"; then
        fail "a second onboard succeeded"
fi
grep -q "already exists" "$WORLD_DIR/onboard2.err" || fail "second onboard did not say the keys file exists"
cmp -s "$K1" "$WORLD_DIR/k1.copy" || fail "second onboard changed the keys file"
ok "second onboard refused, keys file untouched"

act dev1 status -a @alice -k "$K1" > /dev/null 2> "$WORLD_DIR/status1.err" || fail "status of the onboarded @alice"
ok "status: activated, first keys file logs in"

# --- a wrong passcode gives nothing
act dev2 enroll -a @alice -s WRONG9 -p noports -d baddev -n sshnp:rw -k "$WORLD_DIR/bad.atKeys" \
        > /dev/null 2> "$WORLD_DIR/badotp.err" && fail "enroll with a wrong passcode succeeded"
[ -e "$WORLD_DIR/bad.atKeys" ] && fail "a keys file was written for a wrong passcode"
ok "wrong passcode refused"

# --- otp, enroll, approve
OTP=$(act dev1 otp -a @alice -k "$K1" 2> "$WORLD_DIR/otp.err") || fail "otp"
[[ "$OTP" =~ ^[A-Z0-9]{6,}$ ]] || fail "unexpected passcode '$OTP'"
ok "otp $OTP"

enroll_start dev2 dev2 "$OTP"
ID2=$EID
act dev1 list -a @alice -k "$K1" -s pending > "$WORLD_DIR/list.out" 2> "$WORLD_DIR/list.err" || fail "list"
grep -Eq "^$ID2 +pending +noports +dev2 " "$WORLD_DIR/list.out" || fail "list does not show $ID2 pending"
ok "enrollment $ID2 pending and listed"

act dev1 approve -a @alice -k "$K1" -i "$ID2" > "$WORLD_DIR/approve.out" 2> "$WORLD_DIR/approve.err" ||
        fail "approve $ID2"
wait_exit "$EPID" 30 || fail "enroll for dev2 failed after approval"
K2="$WORLD_DIR/dev2.atKeys"
[ -f "$K2" ] || fail "no keys file for dev2"
[ "$(mode_of "$K2")" = 600 ] || fail "dev2 keys file mode is $(mode_of "$K2")"
/usr/bin/python3 - "$K1" "$K2" "$ID2" <<'EOF' || fail "dev2 keys file is not what approval should give"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
# same atSign keys (encrypted under the same self-encryption key with a zero IV: same text) ...
for f in ("selfEncryptionKey", "@alice", "aesEncryptPublicKey", "aesEncryptPrivateKey"):
    assert a[f] == b[f], f
# ... but its own APKAM keys and enrollment
for f in ("aesPkamPublicKey", "aesPkamPrivateKey", "apkamSymmetricKey", "enrollmentId"):
    assert a[f] != b[f], f
assert b["enrollmentId"] == sys.argv[3]
EOF
ok "dev2 keys file written: shared atSign keys, own APKAM keys"

act dev2 status -a @alice -k "$K2" > /dev/null 2> "$WORLD_DIR/status2.err" || fail "dev2 keys do not log in"
ok "dev2 logs in with its own keys"

# --- revoke
act dev1 revoke -a @alice -k "$K1" -i "$ID2" > "$WORLD_DIR/revoke.out" 2> "$WORLD_DIR/revoke.err" || fail "revoke"
act dev2 status -a @alice -k "$K2" > /dev/null 2> "$WORLD_DIR/status3.err"
rc=$?
[ $rc = 5 ] || fail "status with revoked keys gave $rc, not 5"
act dev1 status -a @alice -k "$K1" > /dev/null 2> "$WORLD_DIR/status4.err" || fail "first device lost its login"
ok "after revoke dev2 cannot log in, dev1 still can"

# --- deny
OTP=$(act dev1 otp -a @alice -k "$K1" 2>> "$WORLD_DIR/otp.err") || fail "second otp"
enroll_start dev3 dev3 "$OTP"
act dev1 deny -a @alice -k "$K1" -i "$EID" > /dev/null 2> "$WORLD_DIR/deny.err" || fail "deny"
wait_exit "$EPID" 30 && fail "enroll for dev3 succeeded although denied"
grep -q "denied" "$WORLD_DIR/dev3.err" || fail "enroll for dev3 did not report the denial"
[ -e "$WORLD_DIR/dev3.atKeys" ] && fail "a keys file was written for a denied enrollment"
ok "denied enrollment gets no keys"

echo "all APKAM checks passed"
