# A self-hosted NoPorts world for tests, benchmarks and the demo: atserverd with atSigns,
# onboarded with at_activate, each program in its own network namespace (tests/lib/netns.sh).
# Needs BUILD_DIR (the meson build directory) and WORLD_DIR (a scratch directory).

WORLD_PIDS=()
ROOT_DOMAIN=""
CA_FILE=""

world_bin() { # program -> path in the build tree
        local p
        for p in "$BUILD_DIR/src/$1/$1" "$BUILD_DIR/src/$1"; do
                [ -x "$p" ] && [ -f "$p" ] && { echo "$p"; return 0; }
        done
        echo "world: $1 not built in $BUILD_DIR" >&2
        return 1
}

world_wait_port() { # host ip port [seconds]
        local host="$1" ip="$2" port="$3" n=$(( ${4:-10} * 10 ))
        while [ $n -gt 0 ]; do
                netns_exec "$host" bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null && return 0
                sleep 0.1
                n=$((n - 1))
        done
        echo "world: nothing listening on $ip:$port in $host" >&2
        return 1
}

# world_start_atserver HOST @a @b ...: registers the atSigns, starts the server in namespace HOST,
# leaves their CRAM secrets in $WORLD_DIR/cram/@x, sets ROOT_DOMAIN and CA_FILE.
world_start_atserver() {
        local host="$1" a ip
        shift
        ip=$(netns_ip "$host")
        mkdir -p "$WORLD_DIR/atserver" "$WORLD_DIR/cram"
        for a in "$@"; do
                "$(world_bin atserverd)" --data-dir "$WORLD_DIR/atserver" --add-atsign "$a" > "$WORLD_DIR/cram/$a" || return 1
        done
        netns_spawn "$host" "$(world_bin atserverd)" --data-dir "$WORLD_DIR/atserver" --listen "$ip" \
                --root-port 64 --hostname "$ip" > "$WORLD_DIR/atserverd.log" 2>&1
        WORLD_PIDS+=($NETNS_PID)
        ROOT_DOMAIN="$ip:64"
        CA_FILE="$WORLD_DIR/atserver/ca.pem"
        world_wait_port "$host" "$ip" 64 || { cat "$WORLD_DIR/atserverd.log" >&2; return 1; }
        local n=50
        while [ ! -s "$CA_FILE" ] && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
}

# world_onboard HOST @x: onboards @x from namespace HOST with HOME=$WORLD_DIR/home/@x
# (the CRAM secret goes through standard input, `-c -`, never through the process arguments)
world_onboard() {
        local host="$1" a="$2"
        mkdir -p "$WORLD_DIR/home/$a"
        netns_exec "$host" env HOME="$WORLD_DIR/home/$a" "$(world_bin at_activate)" onboard -a "$a" \
                -c - --root-domain "$ROOT_DOMAIN" --ca-file "$CA_FILE" < "$WORLD_DIR/cram/$a"
}

world_keys() { # @x -> its keys file
        echo "$WORLD_DIR/home/$1/.atsign/keys/$1_key.atKeys"
}

world_teardown() {
        local p
        for p in "${WORLD_PIDS[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${WORLD_PIDS[@]}"; do wait "$p" 2>/dev/null; done
        WORLD_PIDS=()
}
