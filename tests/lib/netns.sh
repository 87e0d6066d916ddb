# Separate hosts for tests and the demo: network namespaces joined by a bridge.
# Source this file, then: netns_setup PREFIX host1 host2 ...; each host gets namespace
# "$PREFIX-<host>" and address 10.<n>.0.<i>/24 (n from the PID so parallel runs differ);
# netns_ip <host> prints it; netns_exec <host> cmd... runs a command there; netns_teardown
# removes everything (call it from an EXIT trap).

NETNS_PREFIX=""
NETNS_HOSTS=()
NETNS_SUBNET=""

netns_setup() {
        NETNS_PREFIX="$1"
        shift
        NETNS_HOSTS=("$@")
        NETNS_SUBNET="10.$(( ($$ % 200) + 20 )).$(( RANDOM % 250 ))"
        local hub="$NETNS_PREFIX-hub" i=1 h
        ip netns add "$hub"
        ip -n "$hub" link add br0 type bridge
        ip -n "$hub" link set br0 up
        ip -n "$hub" link set lo up
        for h in "${NETNS_HOSTS[@]}"; do
                local ns="$NETNS_PREFIX-$h"
                ip netns add "$ns"
                ip -n "$ns" link set lo up
                ip link add "np$$h$i" type veth peer name eth0 netns "$ns"
                ip link set "np$$h$i" netns "$hub"
                ip -n "$hub" link set "np$$h$i" master br0 up
                ip -n "$ns" addr add "$NETNS_SUBNET.$i/24" dev eth0
                ip -n "$ns" link set eth0 up
                i=$((i + 1))
        done
}

netns_ip() {
        local i=1 h
        for h in "${NETNS_HOSTS[@]}"; do
                if [ "$h" = "$1" ]; then
                        echo "$NETNS_SUBNET.$i"
                        return 0
                fi
                i=$((i + 1))
        done
        return 1
}

netns_exec() {
        local h="$1"
        shift
        ip netns exec "$NETNS_PREFIX-$h" "$@"
}

# netns_spawn <host> cmd...: starts cmd in the background in the namespace; NETNS_PID is the
# program's own pid (ip netns exec execs it), so it can be signalled and waited for.
netns_spawn() {
        local h="$1"
        shift
        ip netns exec "$NETNS_PREFIX-$h" "$@" &
        NETNS_PID=$!
}

netns_teardown() {
        local h
        [ -n "$NETNS_PREFIX" ] || return 0
        for h in "${NETNS_HOSTS[@]}" hub; do
                # kill whatever still runs in the namespace, then remove it
                ip netns pids "$NETNS_PREFIX-$h" 2>/dev/null | xargs -r kill -9 2>/dev/null
                ip netns del "$NETNS_PREFIX-$h" 2>/dev/null
        done
        NETNS_PREFIX=""
}
