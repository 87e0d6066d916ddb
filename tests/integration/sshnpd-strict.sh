#!/bin/bash
# sshnpd pins each client atSign's public key in a file on first use, across restarts. When
# @client's public key changes on its atServer: --strict refuses the request with upstream's
# "Likely that the client atSign's public key has changed" error; --no-strict warns and pins the
# new key; --clear-cached-pks forgets the pinned keys at start.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces)"; exit 77; }
source "$SOURCE_DIR/tests/lib/netns.sh"
source "$SOURCE_DIR/tests/lib/world.sh"
source "$SOURCE_DIR/tests/lib/noports-world.sh"
for p in atserverd at_activate at_cli srvd srv sshnpd sshnp; do world_bin $p >/dev/null || exit 77; done
TOOL="$BUILD_DIR/tests/integration/noports-envelope-tool"
[ -x "$TOOL" ] && command -v openssl > /dev/null || exit 77
unset STATE_DIRECTORY

WORLD_DIR=$(mktemp -d /tmp/sshnpd-strict.XXXXXX)
failures=0
cleanup() { world_teardown; netns_teardown; rm -rf "$WORLD_DIR"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
at_cli_as() { # @x args...
        local a="$1"
        shift
        netns_exec client env HOME="$WORLD_DIR/home/$a" "$(world_bin at_cli)" -a "$a" \
                --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" "$@"
}
restart_sshnpd() { # flags...
        kill "$SSHNPD_PID" 2>/dev/null
        wait "$SSHNPD_PID" 2>/dev/null
        mv "$WORLD_DIR/sshnpd.log" "$WORLD_DIR/sshnpd.log.$RANDOM"
        noports_start_sshnpd "$@"
}
# sends an ssh_request signed with the new key pair; prints the daemon's answer
request_with_new_key() {
        local sid payload
        sid=$(cat /proc/sys/kernel/random/uuid)
        payload="{\"direct\":true,\"sessionId\":\"$sid\",\"host\":\"$(netns_ip relay)\",\"port\":1,\"authenticateToRvd\":true,\"clientNonce\":\"a\",\"rvdNonce\":\"b\",\"encryptRvdTraffic\":true,\"clientEphemeralPK\":\"AAAA\",\"clientEphemeralPKType\":\"rsa2048\"}"
        at_cli_as @client --count 1 --timeout 20 monitor "$sid" > "$WORLD_DIR/answer.out" 2>&1 &
        local mon=$!
        sleep 1
        at_cli_as @client notify @device "ssh_request.$DEVICE.sshnp" \
                "$(printf '%s' "$payload" | "$TOOL" sign "$WORLD_DIR/new.key")" > /dev/null
        wait $mon
        cat "$WORLD_DIR/answer.out"
}

noports_world_up --strict || { noports_logs; echo "world did not come up"; exit 1; }
KEY="$WORLD_DIR/home/@client/.ssh/id_ed25519"
CACHE="$WORLD_DIR/home/@device/.atsign/sshnp/cached_pks/client"

# --- first use pins @client's key in a private file; it survives a restart
cmd=$(noports_client @client sshnp -f @client -t @device -d "$DEVICE" -r @relay -i "$KEY" -x 2>&1 | grep -E '^ssh ')
[ -n "$cmd" ] && pass "strict daemon accepts @client's first request" || { fail "first request refused"; noports_logs; }
old=$(netns_exec client env HOME="$WORLD_DIR/home/@client" "$(world_bin at_cli)" -a @stranger \
        --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" -k "$(world_keys @stranger)" get public:publickey@client 2>/dev/null)
if [ -f "$CACHE" ] && [ "$(stat -c %a "$CACHE")" = 600 ] && [ "$(cat "$CACHE")" = "$old" ]; then
        pass "the key of @client is cached in $CACHE (0600)"
else
        fail "cache file: $(ls -l "$CACHE" 2>&1) holds '$(cat "$CACHE" 2>/dev/null | head -c 40)' vs '${old:0:40}'"
fi
restart_sshnpd --strict

# --- @client gets a new key pair on its atServer
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORLD_DIR/new.pem" 2>/dev/null # PKCS#8
grep -v -- '-----' "$WORLD_DIR/new.pem" | tr -d '\n' > "$WORLD_DIR/new.key"
openssl pkey -in "$WORLD_DIR/new.pem" -pubout -outform DER 2>/dev/null | base64 -w0 > "$WORLD_DIR/new.pub"
at_cli_as @client put public:publickey@client "$(cat "$WORLD_DIR/new.pub")" > /dev/null || fail "cannot change the public key"

out=$(request_with_new_key)
if printf '%s' "$out" | grep -q "Likely that the client atSign's public key has changed"; then
        pass "--strict after a restart refuses the changed key: $(printf '%s' "$out" | grep -o 'Signature not verified[^"]*' | head -n 1)"
else
        fail "--strict: answer was '$out'"; noports_logs
fi
grep -q "differs from the one cached" "$WORLD_DIR/sshnpd.log" && pass "sshnpd logged the refusal" || fail "no log line for the refusal"
[ "$(cat "$CACHE")" = "$old" ] && pass "--strict keeps the old key cached" || fail "--strict replaced the cached key"

# --- without --strict: a warning, the new key is cached and the request verifies
restart_sshnpd --no-strict
out=$(request_with_new_key)
# (an answer came, and it is not a refusal of the signature: the fake relay port fails later)
if printf '%s' "$out" | grep -q "\.$DEVICE\.sshnp" && ! printf '%s' "$out" | grep -q "Signature not verified"; then
        pass "--no-strict accepts the new key's signature"
else
        fail "--no-strict: answer was '$out'"; noports_logs
fi
grep -q "changed since it was cached" "$WORLD_DIR/sshnpd.log" && pass "sshnpd warned of the changed key" || fail "no warning"
[ "$(cat "$CACHE")" = "$(cat "$WORLD_DIR/new.pub")" ] && pass "the new key is cached" || fail "the cache still holds the old key"

# --- --clear-cached-pks forgets them at start
restart_sshnpd --strict --clear-cached-pks
[ ! -e "$CACHE" ] && grep -q "Cleared 1 cached client public key" "$WORLD_DIR/sshnpd.log" &&
        pass "--clear-cached-pks removed the cached key" || fail "--clear-cached-pks: $(ls "$CACHE" 2>&1)"

echo "$failures failure(s)"
[ $failures -eq 0 ]
