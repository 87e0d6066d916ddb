#!/bin/bash
# NoPorts end to end across separate hosts (network namespaces): atserverd, srvd, sshd + sshnpd on
# the device, sshnp/npt on the client; real sshd and ssh.
# Asserts: an ssh session runs a command on the device; the device listens on nothing but loopback
# and all its connections are outbound; -s installs the client's key and the username comes from
# the device (-u); --list-devices shows the device; npt reaches a device-local service and a port
# outside --permit-open is refused; bytes at the relay are ciphertext; sshnpd survives an atServer
# restart.
set -uo pipefail
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
[ "$(id -u)" = 0 ] || { echo "needs root (namespaces)"; exit 77; }
source "$SOURCE_DIR/tests/lib/netns.sh"
source "$SOURCE_DIR/tests/lib/world.sh"
source "$SOURCE_DIR/tests/lib/noports-world.sh"
for p in atserverd at_activate srvd srv sshnpd sshnp npt; do world_bin $p >/dev/null || exit 77; done

WORLD_DIR=$(mktemp -d /tmp/noports-e2e.XXXXXX)
failures=0
cleanup() {
        world_teardown
        netns_teardown
        rm -rf "$WORLD_DIR"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

noports_world_up --permit-open "localhost:22,localhost:8080" || { noports_logs; echo "world did not come up"; exit 1; }
KEY="$WORLD_DIR/home/@client/.ssh/id_ed25519"

# --- 1. an ssh session runs a command on the device
ssh_session() { # prints the remote command's output
        local cmd
        cmd=$(noports_client @client sshnp -f @client -t @device -d "$DEVICE" -r @relay -i "$KEY" -s -x \
                -o UserKnownHostsFile=/dev/null -o BatchMode=yes 2>"$WORLD_DIR/sshnp.err") || {
                cat "$WORLD_DIR/sshnp.err"
                return 1
        }
        cmd=$(printf '%s\n' "$cmd" | grep -E '^ssh ' | tail -n 1)
        [ -n "$cmd" ] || { echo "sshnp -x printed no ssh command"; cat "$WORLD_DIR/sshnp.err"; return 1; }
        # shellcheck disable=SC2086
        netns_exec client env HOME="$WORLD_DIR/home/@client" timeout 20 $cmd \
                'echo "user=$(id -un)"; ip -4 -o addr show dev eth0' 2>"$WORLD_DIR/ssh.err"
}
out=$(ssh_session)
if printf '%s' "$out" | grep -q "inet $(netns_ip device)/" && printf '%s' "$out" | grep -q '^user=root$'; then
        pass "ssh session ran on the device as root: $(printf '%s' "$out" | tr '\n' ' ')"
else
        fail "ssh session: got '$out'"; cat "$WORLD_DIR/ssh.err"; noports_logs
fi
grep -q "$(cut -d' ' -f2 "$KEY.pub")" "$WORLD_DIR/home/@device/.ssh/authorized_keys" &&
        pass "-s: the client's public key is in the device's authorized_keys" ||
        fail "-s: client key not added to authorized_keys"

# --- the device has no listening socket beyond loopback; its connections are all outbound
listening=$(netns_exec device ss -Hltnu | awk '{print $5}' | grep -vE '^(127\.0\.0\.1|\[::1\]|\[::ffff:127\.0\.0\.1\]):' || true)
[ -z "$listening" ] && pass "device listens on loopback only" || fail "device listens on: $listening"
peers=$(netns_exec device ss -Htn state established | awk '{print $4}' | grep -vE '^(127\.0\.0\.1|\[::1\])' | sed 's/:[0-9]*$//' | sort -u)
bad_peer=$(printf '%s\n' "$peers" | grep -vxE "$(netns_ip atserver)|$(netns_ip relay)|" || true)
[ -z "$bad_peer" ] && pass "device's connections go only to the atServer and the relay: $(echo $peers)" ||
        fail "device connected to $bad_peer"

# --- 3. --list-devices shows the device with its info
list=$(noports_client @client sshnp -f @client -t @device --list-devices --daemon-ping-timeout 5 2>&1)
if printf '%s' "$list" | grep -q "$DEVICE" && printf '%s' "$list" | grep -qi "localhost:22"; then
        pass "--list-devices shows $DEVICE with its services"
else
        fail "--list-devices: $list"
fi

# --- 2. npt reaches a device-local service; a port outside --permit-open is refused
netns_spawn device socat TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork EXEC:cat > /dev/null 2>&1
WORLD_PIDS+=($NETNS_PID)
netns_spawn relay tcpdump -i eth0 -U -w "$WORLD_DIR/relay.pcap" 'tcp' > /dev/null 2>&1
TCPDUMP_PID=$NETNS_PID
WORLD_PIDS+=($TCPDUMP_PID)
sleep 1
MARKER="PLAINTEXT-MARKER-$RANDOM$RANDOM"
port=$(noports_client @client npt -f @client -t @device -d "$DEVICE" -r @relay -p 8080 -x 2>"$WORLD_DIR/npt.err" | grep -oE '[0-9]+' | tail -n 1)
if [ -n "$port" ]; then
        echo_back=$(printf '%s\n' "$MARKER" | netns_exec client timeout 10 socat -t 3 - "TCP:127.0.0.1:$port")
        [ "$echo_back" = "$MARKER" ] && pass "npt forwards to the device-local service" || fail "npt echo: '$echo_back'"
else
        fail "npt printed no local port"; cat "$WORLD_DIR/npt.err"
fi
# control: the same kind of marker sent in clear to the relay host must show up in the capture
CONTROL="CONTROL-MARKER-$RANDOM$RANDOM"
netns_exec relay timeout 5 socat -u TCP-LISTEN:7999,reuseaddr - > /dev/null 2>&1 &
sleep 0.3
printf '%s\n' "$CONTROL" | netns_exec client timeout 5 socat -u - "TCP:$(netns_ip relay):7999" 2>/dev/null
sleep 1
kill "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null
if grep -qa "$CONTROL" "$WORLD_DIR/relay.pcap"; then
        grep -qa "$MARKER" "$WORLD_DIR/relay.pcap" && fail "the relay saw the plaintext marker" ||
                pass "relayed bytes are ciphertext (capture has the clear control marker, not the tunnelled one)"
else
        fail "capture at the relay did not work (control marker missing)"
fi
refused=$(noports_client @client npt -f @client -t @device -d "$DEVICE" -r @relay -p 9999 -x 2>&1)
rc=$?
if [ $rc -ne 0 ] && printf '%s' "$refused" | grep -qiE "permit"; then
        pass "npt to a port outside --permit-open refused: $(printf '%s' "$refused" | grep -iE permit | head -n 1)"
else
        fail "npt to port 9999: rc=$rc '$refused'"
fi

# --- 6. sshnpd survives its atServer being restarted
kill "${WORLD_PIDS[0]}"; wait "${WORLD_PIDS[0]}" 2>/dev/null
netns_spawn atserver "$(world_bin atserverd)" --data-dir "$WORLD_DIR/atserver" --listen "$(netns_ip atserver)" \
        --root-port 64 --hostname "$(netns_ip atserver)" >> "$WORLD_DIR/atserverd.log" 2>&1
WORLD_PIDS[0]=$NETNS_PID
world_wait_port atserver "$(netns_ip atserver)" 64
ok=0
for attempt in 1 2 3 4 5 6; do
        out=$(ssh_session) && printf '%s' "$out" | grep -q "inet $(netns_ip device)/" && { ok=1; break; }
        sleep 5
done
if [ $ok = 1 ] && kill -0 "$SSHNPD_PID" 2>/dev/null; then
        pass "session works again after the atServer restart, same sshnpd (attempt $attempt)"
else
        fail "no session after atServer restart"; noports_logs
fi

[ $failures -eq 0 ] || { noports_logs; echo "$failures failure(s)"; exit 1; }
echo "all end-to-end checks passed"
