# A complete NoPorts world on separate hosts (network namespaces): atserverd on "atserver" with
# @client @relay @device @stranger, srvd on "relay", sshd (127.0.0.1 only) + sshnpd on "device",
# and the client host. Source tests/lib/netns.sh and tests/lib/world.sh first.
# Needs BUILD_DIR and WORLD_DIR. Sets DEVICE=<device name>.

DEVICE=demo
SSHNPD_PID=""
SRVD_PID=""

noports_world_up() {
        netns_setup "np$$" atserver client relay device || return 1
        world_start_atserver atserver @client @relay @device @stranger || return 1
        world_onboard client @client || return 1
        world_onboard client @stranger || return 1
        world_onboard relay @relay || return 1
        world_onboard device @device || return 1

        # the relay
        netns_spawn relay "$(world_bin srvd)" -a @relay -i "$(netns_ip relay)" \
                --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" -k "$(world_keys @relay)" -v \
                > "$WORLD_DIR/srvd.log" 2>&1
        SRVD_PID=$NETNS_PID
        WORLD_PIDS+=($SRVD_PID)

        # the device: an sshd bound to loopback only, and sshnpd
        local dev="$WORLD_DIR/device"
        mkdir -p "$dev" "$WORLD_DIR/home/@device/.ssh" /run/sshd
        ssh-keygen -q -t ed25519 -N '' -f "$dev/hostkey"
        : > "$WORLD_DIR/home/@device/.ssh/authorized_keys"
        cat > "$dev/sshd_config" <<CFG
Port 22
ListenAddress 127.0.0.1
HostKey $dev/hostkey
AuthorizedKeysFile $WORLD_DIR/home/@device/.ssh/authorized_keys
StrictModes no
PidFile $dev/sshd.pid
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin prohibit-password
CFG
        netns_spawn device /usr/sbin/sshd -D -e -f "$dev/sshd_config" > "$WORLD_DIR/sshd.log" 2>&1
        WORLD_PIDS+=($NETNS_PID)
        noports_start_sshnpd "$@"

        # the client's ssh key
        mkdir -p "$WORLD_DIR/home/@client/.ssh"
        ssh-keygen -q -t ed25519 -N '' -f "$WORLD_DIR/home/@client/.ssh/id_ed25519"
}

# noports_start_sshnpd [extra sshnpd flags]: (re)starts sshnpd on the device
noports_start_sshnpd() {
        netns_spawn device env HOME="$WORLD_DIR/home/@device" USER=root NOPORTS_SRV="$(world_bin srv)" \
                "$(world_bin sshnpd)" -a @device -m @client -d "$DEVICE" -s \
                --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" -k "$(world_keys @device)" -v "$@" \
                >> "$WORLD_DIR/sshnpd.log" 2>&1
        SSHNPD_PID=$NETNS_PID
        WORLD_PIDS+=($SSHNPD_PID)
        # ready once its monitor runs
        local n=100
        while ! grep -q "monitor started" "$WORLD_DIR/sshnpd.log" 2>/dev/null && [ $n -gt 0 ]; do
                sleep 0.1
                n=$((n - 1))
        done
}

# noports_client @atsign program args...: runs a client program as @atsign on the client host
noports_client() {
        local a="$1" prog="$2"
        shift 2
        netns_exec client env HOME="$WORLD_DIR/home/$a" NOPORTS_SRV="$(world_bin srv)" \
                "$(world_bin "$prog")" --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" \
                -k "$(world_keys "$a")" "$@"
}

noports_logs() {
        local f
        for f in atserverd srvd sshnpd sshd; do
                echo "----- $f.log (last 40 lines)"
                tail -n 40 "$WORLD_DIR/$f.log" 2>/dev/null
        done
}
