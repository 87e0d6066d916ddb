#!/bin/bash
# NoPorts refusals with clear client-side messages, and a daemon that keeps serving:
# a non-manager atSign, a forged signature, a request without signature, a device that is offline.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces)"; exit 77; }
source "$SOURCE_DIR/tests/lib/netns.sh"
source "$SOURCE_DIR/tests/lib/world.sh"
source "$SOURCE_DIR/tests/lib/noports-world.sh"
for p in atserverd at_activate at_cli srvd srv sshnpd sshnp; do world_bin $p >/dev/null || exit 77; done

WORLD_DIR=$(mktemp -d /tmp/noports-refusals.XXXXXX)
failures=0
cleanup() { world_teardown; netns_teardown; rm -rf "$WORLD_DIR"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

noports_world_up || { noports_logs; echo "world did not come up"; exit 1; }
KEY="$WORLD_DIR/home/@client/.ssh/id_ed25519"
session_works() {
        local cmd
        cmd=$(noports_client @client sshnp -f @client -t @device -d "$DEVICE" -r @relay -i "$KEY" -s -x \
                -o UserKnownHostsFile=/dev/null -o BatchMode=yes 2>/dev/null | grep -E '^ssh ' | tail -n 1)
        [ -n "$cmd" ] || return 1
        # shellcheck disable=SC2086
        netns_exec client env HOME="$WORLD_DIR/home/@client" timeout 20 $cmd 'echo SESSION-OK' 2>/dev/null | grep -q SESSION-OK
}
at_cli_as() { # @x args...
        local a="$1"
        shift
        netns_exec client env HOME="$WORLD_DIR/home/$a" "$(world_bin at_cli)" -a "$a" \
                --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" "$@"
}

# --- a non-manager gets no session and a clear message within its timeout
start=$(date +%s)
out=$(noports_client @stranger sshnp -f @stranger -t @device -d "$DEVICE" -r @relay -i "$KEY" -x \
        --daemon-ping-timeout 4 2>&1)
rc=$?
elapsed=$(( $(date +%s) - start ))
if [ $rc -ne 0 ] && [ $elapsed -le 40 ] && printf '%s' "$out" | grep -qiE "no response|timed out|did not respond"; then
        pass "non-manager refused after ${elapsed}s: $(printf '%s' "$out" | tail -n 1)"
else
        fail "non-manager: rc=$rc after ${elapsed}s: $out"
fi
grep -q "@stranger" "$WORLD_DIR/sshnpd.log" && pass "sshnpd logged the non-manager" || fail "sshnpd did not log @stranger"

# --- a forged signature is answered with a clear error; a request without signature starts nothing
SID=$(cat /proc/sys/kernel/random/uuid)
SIG=$(head -c 256 /dev/urandom | base64 -w0)
PAYLOAD="{\"direct\":true,\"sessionId\":\"$SID\",\"host\":\"$(netns_ip relay)\",\"port\":1,\"authenticateToRvd\":true,\"clientNonce\":\"a\",\"rvdNonce\":\"b\",\"encryptRvdTraffic\":true,\"clientEphemeralPK\":\"AAAA\",\"clientEphemeralPKType\":\"rsa2048\"}"
at_cli_as @client --count 1 --timeout 20 monitor "$SID" > "$WORLD_DIR/forged.out" 2>&1 &
MON=$!
sleep 1
at_cli_as @client notify @device "ssh_request.$DEVICE.sshnp" \
        "{\"payload\":$PAYLOAD,\"signature\":\"$SIG\",\"hashingAlgo\":\"sha256\",\"signingAlgo\":\"rsa2048\"}" > /dev/null
wait $MON
if grep -q "Signature not verified" "$WORLD_DIR/forged.out"; then
        pass "forged signature answered: $(grep -o 'Signature not verified[^"]*' "$WORLD_DIR/forged.out" | head -n 1)"
else
        fail "forged signature: $(cat "$WORLD_DIR/forged.out")"
fi
at_cli_as @client notify @device "ssh_request.$DEVICE.sshnp" "{\"payload\":$PAYLOAD}" > /dev/null
sleep 2
nsrv=$(pgrep -c -f "$(world_bin srv)" || true)
[ "${nsrv:-0}" -eq 0 ] && pass "unsigned request started no srv" || fail "unsigned request started $nsrv srv"
kill -0 "$SSHNPD_PID" && pass "sshnpd still running after hostile requests" || fail "sshnpd died"

# --- the daemon keeps serving its manager
session_works && pass "manager's session works after the refusals" || { fail "manager session after refusals"; noports_logs; }

# --- a device that is offline: the client gives up within its timeout with a clear message
kill "$SSHNPD_PID"; wait "$SSHNPD_PID" 2>/dev/null
start=$(date +%s)
out=$(noports_client @client sshnp -f @client -t @device -d "$DEVICE" -r @relay -i "$KEY" -x --daemon-ping-timeout 4 2>&1)
rc=$?
elapsed=$(( $(date +%s) - start ))
if [ $rc -ne 0 ] && [ $elapsed -le 40 ] && printf '%s' "$out" | grep -qiE "no response|timed out|did not respond|offline"; then
        pass "offline device: client gave up after ${elapsed}s: $(printf '%s' "$out" | tail -n 1)"
else
        fail "offline device: rc=$rc after ${elapsed}s: $out"
fi

[ $failures -eq 0 ] || { noports_logs; echo "$failures failure(s)"; exit 1; }
echo "all refusal checks passed"
