#!/bin/bash
# sshnpd speaks to each client in the client's dialect (issue 4: "Speak the baseline to peers that
# do not advertise the newer feature, and the newer one to those that do"), end to end across
# network namespaces with a real sshd:
#  - a daemon with twin keys advertises twinKeys; our sshnp and npt ask for them and their sessions
#    work;
#    a request crafted as newer clients write it (twinKeys:true) gets the newest answer form and a
#    device srv with a key per direction; a request crafted as a 5.x client writes it (no newer
#    fields) gets the 5.x answer and a device srv with one key, and a client srv given only that one
#    key (RV_AES/RV_IV) carries an ssh session;
#  - a baseline daemon (sshnpd --no-twin-keys, the hidden test/compat switch) advertises no
#    twinKeys; our sshnp and npt fall back to one key and their sessions work; a twinKeys:true request is
#    answered as a 5.x daemon answers it.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces)"; exit 77; }
source "$SOURCE_DIR/tests/lib/netns.sh"
source "$SOURCE_DIR/tests/lib/world.sh"
source "$SOURCE_DIR/tests/lib/noports-world.sh"
for p in atserverd at_activate at_cli srvd srv sshnpd sshnp; do world_bin $p >/dev/null || exit 77; done
TOOL="$BUILD_DIR/tests/integration/noports-baseline-client"
[ -x "$TOOL" ] || { echo "noports-baseline-client not built"; exit 77; }

WORLD_DIR=$(mktemp -d /tmp/noports-interop.XXXXXX)
failures=0
cleanup() {
        world_teardown
        netns_teardown
        rm -rf "$WORLD_DIR"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

BASELINE_FIELDS="status,sessionId,ephemeralPrivateKey,sessionAESKey,sessionIV"
TWIN_FIELDS="status,sessionId,aesKeyC2D,ivC2D,aesKeyD2C,ivD2C,eventLoggingConfig"

noports_world_up --permit-open "localhost:22,localhost:8080" || { noports_logs; echo "world did not come up"; exit 1; }
netns_spawn device socat TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork EXEC:cat > /dev/null 2>&1
WORLD_PIDS+=($NETNS_PID)
KEY="$WORLD_DIR/home/@client/.ssh/id_ed25519"
SSH_OPTS=(-i "$KEY" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes
          -o GSSAPIAuthentication=no -o LogLevel=ERROR)

# what the daemon shares with its managers (device_info = its ping answer)
device_info() {
        netns_exec client "$(world_bin at_cli)" -a @client -r "$ROOT_DOMAIN" --ca-file "$CA_FILE" \
                -k "$(world_keys @client)" get "@client:device_info.$DEVICE.sshnp@device" 2>&1
}

# our sshnp: prints the remote command's output; the session id goes to $WORLD_DIR/sshnp.err (-v)
sshnp_session() {
        local cmd
        cmd=$(noports_client @client sshnp -f @client -t @device -d "$DEVICE" -r @relay -i "$KEY" -s -x -v \
                -o UserKnownHostsFile=/dev/null -o BatchMode=yes 2>"$WORLD_DIR/sshnp.err") || {
                cat "$WORLD_DIR/sshnp.err"
                return 1
        }
        cmd=$(printf '%s\n' "$cmd" | grep -E '^ssh ' | tail -n 1)
        [ -n "$cmd" ] || { echo "sshnp -x printed no ssh command"; return 1; }
        # shellcheck disable=SC2086
        netns_exec client env HOME="$WORLD_DIR/home/@client" timeout 20 $cmd 'echo "on-device $(hostname -I)"'
}

# npt (multi mode: a control channel, then a relay socket per connection) to an echo service
npt_echo() {
        local port marker="interop-$RANDOM$RANDOM"
        port=$(noports_client @client npt -f @client -t @device -d "$DEVICE" -r @relay -p 8080 -x -v \
                2>"$WORLD_DIR/sshnp.err" | grep -oE '[0-9]+' | tail -n 1)
        [ -n "$port" ] || { cat "$WORLD_DIR/sshnp.err"; return 1; }
        [ "$(printf '%s\n' "$marker" | netns_exec client timeout 10 socat -t 3 - "TCP:127.0.0.1:$port")" = "$marker" ] &&
                [ "$(printf '%s\n' "$marker-2" | netns_exec client timeout 10 socat -t 3 - "TCP:127.0.0.1:$port")" = "$marker-2" ]
}

# the decision sshnpd logged for the session that sshnp (or npt) started last
session_mode_logged() {
        local sid
        sid=$(grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}' "$WORLD_DIR/sshnp.err" | head -n 1)
        [ -n "$sid" ] && grep "Session $sid from" "$WORLD_DIR/sshnpd.log" | tail -n 1
}

# the crafted client: fills V_* from its NAME=value lines
crafted_request() { # [--twin]
        local line
        unset V_RELAY_HOST V_RELAY_PORT V_RELAY_PORT_B V_SESSION_ID V_FIELDS V_RV_AUTH V_RV_AES V_RV_IV V_RV_AES_D2C V_RV_IV_D2C
        netns_exec client env HOME="$WORLD_DIR/home/@client" "$TOOL" --root-domain "$ROOT_DOMAIN" \
                --ca-file "$CA_FILE" -k "$(world_keys @client)" -f @client -t @device -d "$DEVICE" -r @relay "$@" \
                > "$WORLD_DIR/crafted.out" 2> "$WORLD_DIR/crafted.err" || { cat "$WORLD_DIR/crafted.err"; return 1; }
        while IFS= read -r line; do
                printf -v "V_${line%%=*}" '%s' "${line#*=}"
        done < "$WORLD_DIR/crafted.out"
}

# names of the key variables in the environment of the device-side srv that dials relay port $1
# (srv wipes their values once read, so only the names are left to see)
device_srv_env_names() {
        local pid
        for pid in $(pgrep -P "$SSHNPD_PID" -x srv); do
                if tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- " -p $1 "; then
                        tr '\0' '\n' < "/proc/$pid/environ" | grep -oE '^RV_(AES|IV)[A-Z0-9_]*' | sort | tr '\n' ' '
                        return 0
                fi
        done
        return 1
}

# a client-side srv given exactly the V_* keys (env names as given), then ssh through it
ssh_through_client_srv() { # NAME=VALUE... (the key variables)
        local port=$((20000 + RANDOM % 20000)) srv_pid out n=50
        netns_spawn client env "RV_AUTH=$V_RV_AUTH" "$@" "$(world_bin srv)" -h "$V_RELAY_HOST" -p "$V_RELAY_PORT" \
                --local-port "$port" --bind-local-port --rv-auth --rv-e2ee --timeout 20 2> "$WORLD_DIR/client-srv.log"
        srv_pid=$NETNS_PID
        WORLD_PIDS+=($srv_pid)
        while ! grep -q "rv started successfully" "$WORLD_DIR/client-srv.log" && [ $n -gt 0 ]; do
                sleep 0.1
                n=$((n - 1))
        done
        out=$(netns_exec client env HOME="$WORLD_DIR/home/@client" timeout 20 ssh "${SSH_OPTS[@]}" -p "$port" \
                root@127.0.0.1 'echo "on-device $(hostname -I)"' 2>&1)
        kill "$srv_pid" 2>/dev/null
        printf '%s' "$out"
}

# ---------------------------------------------------------------- a daemon with twin keys
info=$(device_info)
if printf '%s' "$info" | grep -q '"twinKeys":true' && printf '%s' "$info" | grep -q '"npCpVersion":"1.3.0"' &&
        ! printf '%s' "$info" | grep -q 'supportsRamEscr'; then
        pass "device_info advertises twinKeys (npCpVersion 1.3.0, no ESCR claimed)"
else
        fail "device_info of the twin-key daemon: $info"
fi

out=$(sshnp_session)
if printf '%s' "$out" | grep -q "on-device.*$(netns_ip device)"; then
        pass "sshnp session through a twin-key daemon ran on the device"
else
        fail "sshnp session (twin-key daemon): $out"; noports_logs
fi
logged=$(session_mode_logged)
printf '%s' "$logged" | grep -q "twin keys (one key per direction)" &&
        pass "sshnpd used twin keys for our sshnp: ${logged##*: }" || fail "sshnpd's decision for sshnp: '$logged'"
npt_echo && pass "npt (two connections over one session) through a twin-key daemon" || fail "npt with twin keys"
logged=$(session_mode_logged)
printf '%s' "$logged" | grep -q "twin keys (one key per direction)" &&
        pass "sshnpd used twin keys for our npt" || fail "sshnpd's decision for npt: '$logged'"

if crafted_request --twin; then
        [ "$V_FIELDS" = "$TWIN_FIELDS" ] && pass "a twinKeys request gets the newest answer: $V_FIELDS" ||
                fail "twinKeys request answered with: $V_FIELDS"
        [ -n "${V_RV_AES_D2C:-}" ] && [ "$V_RV_AES_D2C" != "$V_RV_AES" ] &&
                pass "the two directions have different keys" || fail "no distinct D2C key"
        names=$(device_srv_env_names "$V_RELAY_PORT_B")
        [ "$names" = "RV_AES_C2D RV_AES_D2C RV_IV_C2D RV_IV_D2C " ] &&
                pass "the device's srv got a key per direction: $names" || fail "device srv env for twin: '$names'"
        out=$(ssh_through_client_srv "RV_AES_C2D=$V_RV_AES" "RV_IV_C2D=$V_RV_IV" "RV_AES_D2C=$V_RV_AES_D2C" \
                "RV_IV_D2C=$V_RV_IV_D2C")
        printf '%s' "$out" | grep -q "on-device.*$(netns_ip device)" &&
                pass "ssh through a client srv with the twin keys works" || fail "ssh with twin keys: $out"
else
        fail "crafted twinKeys request"
fi
# control: a client that keeps using the C2D key both ways gets nothing readable back, so the
# daemon really encrypts with a different key towards the client
if crafted_request --twin; then
        out=$(ssh_through_client_srv "RV_AES=$V_RV_AES" "RV_IV=$V_RV_IV")
        printf '%s' "$out" | grep -q "on-device" && fail "ssh worked with the C2D key used both ways: $out" ||
                pass "with the C2D key used both ways (a client ignoring D2C) no session: $(printf '%s' "$out" | head -n 1)"
else
        fail "crafted twinKeys request (control)"
fi

if crafted_request; then
        [ "$V_FIELDS" = "$BASELINE_FIELDS" ] && pass "a 5.x request (no newer fields) gets the 5.x answer: $V_FIELDS" ||
                fail "5.x request answered with: $V_FIELDS"
        names=$(device_srv_env_names "$V_RELAY_PORT_B")
        [ "$names" = "RV_AES RV_IV " ] && pass "the device's srv got one key for both directions: $names" ||
                fail "device srv env for baseline: '$names'"
        out=$(ssh_through_client_srv "RV_AES=$V_RV_AES" "RV_IV=$V_RV_IV")
        printf '%s' "$out" | grep -q "on-device.*$(netns_ip device)" &&
                pass "ssh through a client srv with the single key (as 5.x runs it) works" || fail "ssh with one key: $out"
else
        fail "crafted 5.x request"
fi

# ---------------------------------------------------------------- a baseline daemon
kill "$SSHNPD_PID"; wait "$SSHNPD_PID" 2>/dev/null
: > "$WORLD_DIR/sshnpd.log"
noports_start_sshnpd --no-twin-keys --permit-open "localhost:22,localhost:8080"
# device_info is republished once the monitor runs: wait (up to 10 s) for the new one
for _ in $(seq 20); do
        info=$(device_info)
        printf '%s' "$info" | grep -q '"srE2ee":true' && ! printf '%s' "$info" | grep -q 'twinKeys' && break
        sleep 0.5
done
if printf '%s' "$info" | grep -q '"srE2ee":true' && ! printf '%s' "$info" | grep -q 'twinKeys'; then
        pass "with --no-twin-keys, device_info has no twinKeys"
else
        fail "device_info of the baseline daemon: $info"
fi
out=$(sshnp_session)
if printf '%s' "$out" | grep -q "on-device.*$(netns_ip device)"; then
        pass "sshnp session through a baseline daemon ran on the device"
else
        fail "sshnp session (baseline daemon): $out"; noports_logs
fi
logged=$(session_mode_logged)
printf '%s' "$logged" | grep -q "one key for both directions (baseline); the client did not ask for twin keys" &&
        pass "our sshnp did not ask a baseline daemon for twin keys: ${logged##*: }" ||
        fail "sshnpd's decision for sshnp: '$logged'"
npt_echo && pass "npt (two connections over one session) through a baseline daemon" || fail "npt with one key"
logged=$(session_mode_logged)
printf '%s' "$logged" | grep -q "one key for both directions (baseline); the client did not ask" &&
        pass "our npt did not ask a baseline daemon for twin keys" || fail "sshnpd's decision for npt: '$logged'"
if crafted_request --twin; then
        [ "$V_FIELDS" = "$BASELINE_FIELDS" ] && [ -z "${V_RV_AES_D2C:-}" ] &&
                pass "a baseline daemon answers a twinKeys request as 5.x does: $V_FIELDS" ||
                fail "baseline daemon answered a twinKeys request with: $V_FIELDS"
        out=$(ssh_through_client_srv "RV_AES=$V_RV_AES" "RV_IV=$V_RV_IV")
        printf '%s' "$out" | grep -q "on-device.*$(netns_ip device)" &&
                pass "and the session works with that one key" || fail "ssh with one key (baseline daemon): $out"
else
        fail "crafted twinKeys request to the baseline daemon"
fi

[ $failures -eq 0 ] || { noports_logs; echo "$failures failure(s)"; exit 1; }
echo "all interop checks passed"
