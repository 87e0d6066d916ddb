#!/bin/bash
# sshnpd's D-Bus interface on a private system-like dbus-daemon: properties and ListSessions are
# open to anyone; CloseSession and Reload are refused to a caller polkit does not authorize
# (here: no polkit at all, and an unprivileged caller), and allowed to a privileged one.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:?}
SOURCE_DIR=${SOURCE_DIR:?}
T=$(mktemp -d /tmp/sshnpd-dbus.XXXXXX)
chmod 755 "$T"
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/sshnpd.log" ] && sed "s/^/  sshnpd: /" "$T/sshnpd.log" >&2; exit 1; }

mkdir -p "$T/system.d" "$T/home"
# the project's own bus policy, with the test's users in place of "noports"
sed 's/user="noports"/user="root"/' "$SOURCE_DIR/dbus/org.noports.conf" > "$T/system.d/org.noports.conf"
cat > "$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path=$T/bus.sock</listen>
  <policy context="default">
    <allow user="*"/> <deny own="*"/> <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/> <allow receive_type="method_return"/>
    <allow receive_type="error"/> <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <includedir>$T/system.d</includedir>
</busconfig>
CONF
dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/dbus.log" &
pids+=($!)
for _ in $(seq 100); do [ -S "$T/bus.sock" ] && break; sleep 0.05; done
[ -S "$T/bus.sock" ] || fail "dbus-daemon did not start"
A="unix:path=$T/bus.sock"
export DBUS_SYSTEM_BUS_ADDRESS=$A

# no atServer is reachable: the daemon keeps running (retrying) and serves the bus regardless
/usr/bin/python3 "$SOURCE_DIR/tests/integration/make-test-keys.py" @device "$T/home/.atsign/keys/@device_key.atKeys"
HOME="$T/home" NOPORTS_LOG_LEVEL=7 "$BUILD_DIR/src/sshnpd/sshnpd" -a @device -m @manager -d dbus-test \
        --root-server 127.0.0.1:1 >"$T/sshnpd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
        busctl --address="$A" status org.noports.Sshnpd1 >/dev/null 2>&1 && break
        sleep 0.05
done
busctl --address="$A" status org.noports.Sshnpd1.dbus_2dtest >/dev/null || { cat "$T/sshnpd.log"; fail "sshnpd did not take its bus names"; }

nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# reading is open, also to an unprivileged caller
dev=$(nobody busctl --address="$A" get-property org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 Device)
[ "$dev" = 's "dbus-test"' ] || fail "Device property: $dev"
mgr=$(nobody busctl --address="$A" get-property org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 Managers)
[ "$mgr" = 'as 1 "@manager"' ] || fail "Managers property: $mgr"
n=$(nobody busctl --address="$A" get-property org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 NSessions)
[ "$n" = "u 0" ] || fail "NSessions: $n"
list=$(nobody busctl --address="$A" call org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 ListSessions)
[ "$list" = "a(sssstuo) 0" ] || fail "ListSessions: $list"

# changing state without polkit's consent is refused
if out=$(nobody busctl --address="$A" call org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 \
                CloseSession s 0b7c7e52-3f7e-4b8e-9d43-6b1f3c1f8a11 2>&1); then
        fail "CloseSession by an unauthorized caller succeeded: $out"
fi
echo "$out" | grep -qiE "not authorized|access denied" || fail "CloseSession refusal says: $out"
if out=$(nobody busctl --address="$A" call org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 Reload 2>&1); then
        fail "Reload by an unauthorized caller succeeded: $out"
fi
echo "$out" | grep -qiE "not authorized|access denied" || fail "Reload refusal says: $out"

# a privileged caller passes the check and gets the real answer
if out=$(busctl --address="$A" call org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 \
                CloseSession s no-such-session 2>&1); then
        fail "closing a session that does not exist succeeded"
fi
echo "$out" | grep -q "No session no-such-session" || fail "privileged CloseSession says: $out"

# the daemon is still alive and serving after all that
nobody busctl --address="$A" call org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1 ListSessions >/dev/null \
        || fail "sshnpd stopped answering"
grep -q "Refused to close session 0b7c7e52-3f7e-4b8e-9d43-6b1f3c1f8a11: caller not authorized" "$T/sshnpd.log" \
        || fail "the refusal was not the daemon's polkit check"
echo "sshnpd D-Bus interface: PASSED"
