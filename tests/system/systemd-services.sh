#!/bin/bash
# atserverd, sshnpd and srvd as real systemd services: our build installed with --prefix=/usr into
# an overlay of the host's root, systemd booted in it with systemd-nspawn (private network,
# everything on loopback inside). Inside: atSigns registered as the atserverd user, then
# `systemctl enable --now atserverd.socket atserverd.service` (root port 64 passed by the socket
# unit to an unprivileged daemon), @client/@relay/@device onboarded (the daemons' keys in the
# noports user's home), /etc/noports configuration, then
# `systemctl enable --now srvd.service sshnpd@demo.service`.
# atserverd: active through READY=1 as user atserverd without capabilities, STATUS= counts its
# atSigns, it took the passed socket; an atSign registered while it runs is served after
# `systemctl reload` (same process) and onboarded; one registered without a reload is found by
# the root; SIGKILL: restarted (Restart=on-failure); stop is clean and a connection to the socket
# starts it again.
# Asserts: both units become active through Type=notify READY with a STATUS= text; the journal
# carries NOPORTS_ATSIGN=/NOPORTS_DEVICE=; org.noports.Sshnpd1 and org.noports.Srvd1 are on the
# system bus and ListSessions answers; an sshnp session to the container's sshd runs a command
# and shows up in ListSessions and in the journal (NOPORTS_SESSION=); an unprivileged caller's
# CloseSession is refused by polkit; stop is clean (STOPPING), restart works.
set -u # no pipefail: "producer | grep -q" must not fail when grep stops reading early
: "${BUILD_DIR:?}" "${SOURCE_DIR:?}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (mounts, systemd-nspawn)"; exit 77; }
for t in systemd-nspawn unshare nsenter meson ssh-keygen /usr/sbin/sshd /usr/lib/polkit-1/polkitd; do
        command -v "$t" > /dev/null || { echo "FAIL: $t is missing (run tools/install-deps)"; exit 1; }
done

PY=/usr/bin/python3
NAME="npsys$$"
T=$(mktemp -d /var/tmp/noports-system.XXXXXX)
NSPAWN_PID=""
LEADER=""
CGDIRS=()
failures=0
pass() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; failures=$((failures + 1)); exit 1; }

# run a command in the container, with a clean environment
ct() { nsenter -t "$LEADER" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# wait_journal UNIT TEXT: a message of UNIT contains TEXT (within 5 s)
wait_journal() {
        for _ in $(seq 50); do
                ct journalctl --no-pager -u "$1" -o cat | grep -qF "$2" && return 0
                sleep 0.1
        done
        return 1
}

logs() {
        [ -n "$LEADER" ] && kill -0 "$LEADER" 2>/dev/null || { tail -n 40 "$T/nspawn.log" 2>/dev/null; return; }
        echo "----- failed units"; ct systemctl --no-pager list-units --failed
        for u in atserverd.socket atserverd srvd sshnpd@demo ssh; do
                echo "----- journal of $u (last 40)"
                ct journalctl --no-pager -n 40 -u "$u"
        done
}

cleanup() {
        [ $failures -eq 0 ] || logs
        if [ -n "${SYSTEST_HOLD:-}" ] && [ -n "$LEADER" ]; then # debugging: look around before teardown
                echo "holding the container for $SYSTEST_HOLD s: nsenter -t $LEADER -a bash"
                sleep "$SYSTEST_HOLD"
        fi
        if [ -n "$NSPAWN_PID" ] && kill -0 "$NSPAWN_PID" 2>/dev/null; then
                kill -TERM "$NSPAWN_PID" # nspawn -b: an orderly halt of the container
                for _ in $(seq 100); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.1; done
                kill -0 "$NSPAWN_PID" 2>/dev/null && kill -KILL "$NSPAWN_PID"
                wait "$NSPAWN_PID" 2>/dev/null
        fi
        # the overlay and its tmpfs live in nspawn's private mount namespace: gone with it
        local d
        for d in "${CGDIRS[@]}"; do
                find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        rm -rf "$T"
}
trap cleanup EXIT

# --- 1. our build, installed with --prefix=/usr (polkit and the system bus read only /usr/share)
# (a sanitizer build would not run under the units' MemoryDenyWriteExecute= and seccomp filter)
opts=$(meson introspect --buildoptions "$BUILD_DIR" |
        $PY -c 'import json,sys; o={x["name"]: x["value"] for x in json.load(sys.stdin)}; print(o["prefix"], o["b_sanitize"])')
if [ "$opts" = "/usr none" ]; then
        IB="$BUILD_DIR"
else
        IB="$BUILD_DIR/system-prefix-usr"
        if [ ! -f "$IB/build.ninja" ]; then
                meson setup --prefix=/usr "$IB" "$SOURCE_DIR" > "$T/setup.log" 2>&1 ||
                        { cat "$T/setup.log"; die "meson setup --prefix=/usr"; }
        fi
        ninja -C "$IB" -j2 > "$T/build.log" 2>&1 || { tail -n 40 "$T/build.log"; die "build with --prefix=/usr"; }
fi
S="$T/stage"
meson install -C "$IB" --no-rebuild --destdir "$S" > "$T/install.log" 2>&1 ||
        { cat "$T/install.log"; die "meson install --destdir"; }
for f in usr/sbin/sshnpd usr/bin/srvd usr/bin/srv usr/bin/sshnp usr/bin/atserverd usr/bin/at_activate \
         usr/lib/systemd/system/sshnpd@.service usr/lib/systemd/system/srvd.service \
         usr/lib/systemd/system/atserverd.service usr/lib/systemd/system/atserverd.socket \
         usr/lib/sysusers.d/noports.conf usr/lib/tmpfiles.d/noports.conf \
         usr/lib/sysusers.d/atserverd.conf usr/lib/tmpfiles.d/atserverd.conf \
         usr/share/dbus-1/system.d/org.noports.conf usr/share/polkit-1/actions/org.noports.policy; do
        [ -e "$S/$f" ] || die "meson install did not install /$f"
done

# the rest of the upper layer: a quiet boot, an sshd on 127.0.0.1 only, the client's ssh key
mkdir -p "$S/etc/systemd/system" "$S/etc/ssh/sshd_config.d" "$S/etc/ssh/noports-test" "$S/var/lib/np-client/.ssh"
for u in postgresql.service e2scrub_reap.service apt-daily.timer apt-daily-upgrade.timer man-db.timer \
         dpkg-db-backup.timer e2scrub_all.timer fstrim.timer systemd-timesyncd.service getty@tty1.service \
         console-getty.service; do
        ln -sf /dev/null "$S/etc/systemd/system/$u"
done
ln -sf /lib/systemd/system/multi-user.target "$S/etc/systemd/system/default.target"
echo "$NAME" > "$S/etc/hostname"
ssh-keygen -q -t ed25519 -N '' -f "$S/etc/ssh/noports-test/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$S/var/lib/np-client/.ssh/id_ed25519"
cp "$S/var/lib/np-client/.ssh/id_ed25519.pub" "$S/etc/ssh/noports-test/authorized_keys"
cat > "$S/etc/ssh/sshd_config.d/00-noports-test.conf" <<EOF
ListenAddress 127.0.0.1
HostKey /etc/ssh/noports-test/hostkey
AuthorizedKeysFile /etc/ssh/noports-test/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF

# --- 2. boot systemd in an overlay of the host's root
mkdir -p "$T/layer" "$T/root"
if [ -d /sys/fs/cgroup/unified ]; then # hybrid: a parent cgroup of our own in both hierarchies
        CGDIRS=("/sys/fs/cgroup/systemd/$NAME" "/sys/fs/cgroup/unified/$NAME")
else
        CGDIRS=("/sys/fs/cgroup/$NAME")
fi
for d in "${CGDIRS[@]}"; do mkdir -p "$d"; done
( for d in "${CGDIRS[@]}"; do echo "$BASHPID" > "$d/cgroup.procs"; done
  exec unshare -m --propagation private bash -c '
        set -e; T=$1; N=$2
        mount -t tmpfs -o size=2G,mode=755 tmpfs "$T/layer"
        mkdir "$T/layer/upper" "$T/layer/work"
        cp -a "$T/stage/." "$T/layer/upper/"
        mount -t overlay overlay -o "lowerdir=/,upperdir=$T/layer/upper,workdir=$T/layer/work" "$T/root"
        mountpoint -q /run/systemd/nspawn || { mkdir -p /run/systemd/nspawn; mount -t tmpfs tmpfs /run/systemd/nspawn; }
        exec systemd-nspawn -D "$T/root" -b --register=no --keep-unit --machine="$N" --hostname="$N" \
                --console=pipe --resolv-conf=off --timezone=off --link-journal=no --private-network' _ "$T" "$NAME"
) > "$T/nspawn.log" 2>&1 < /dev/null &
NSPAWN_PID=$!
for _ in $(seq 200); do
        for c in $(pgrep -P "$NSPAWN_PID"; for p in $(pgrep -P "$NSPAWN_PID"); do pgrep -P "$p"; done); do
                [ "$(cat "/proc/$c/comm" 2>/dev/null)" = systemd ] && { LEADER=$c; break 2; }
        done
        kill -0 "$NSPAWN_PID" 2>/dev/null || break
        sleep 0.05
done
[ -n "$LEADER" ] || { cat "$T/nspawn.log"; die "the container's systemd did not start"; }
for _ in $(seq 400); do [ -S "/proc/$LEADER/root/run/systemd/private" ] && break; sleep 0.05; done
state=$(timeout 90 nsenter -t "$LEADER" -a systemctl is-system-running --wait)
case "$state" in
running|degraded) pass "systemd booted in the container: $state" ;;
*) die "container's systemd: '$state'" ;;
esac

# --- 3. the package's post-install steps: system user, directories, bus policy, units
ct systemd-sysusers noports.conf atserverd.conf || fail "systemd-sysusers noports.conf atserverd.conf"
ct systemd-tmpfiles --create noports.conf atserverd.conf || fail "systemd-tmpfiles --create noports.conf atserverd.conf"
ct id noports > /dev/null && pass "sysusers created the noports user: $(ct id noports)" || die "no noports user"
ct id atserverd > /dev/null && pass "sysusers created the atserverd user: $(ct id atserverd)" || die "no atserverd user"
out=$(ct stat -c '%U:%G %a' /var/lib/atserverd)
[ "$out" = "atserverd:atserverd 750" ] && pass "tmpfiles: /var/lib/atserverd is $out" || fail "/var/lib/atserverd: '$out'"
# the bus policy names the user created just now: reload it, as a package's postinst would
ct busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig || fail "dbus ReloadConfig"
ct systemctl daemon-reload
ct systemctl restart ssh.service || fail "sshd in the container did not start"
# an administrator polkit lets close sessions (a rule, as a site would write it)
ct useradd --system --no-create-home --shell /usr/sbin/nologin npadmin || fail "useradd npadmin"
printf '%s\n' 'polkit.addRule(function(action, subject) {' \
        '        if (action.id.indexOf("org.noports.") == 0 && subject.user == "npadmin")' \
        '                return polkit.Result.YES;' '});' |
        ct install -m 0644 /dev/stdin /etc/polkit-1/rules.d/60-noports-systemtest.rules || fail "polkit rule"

out=$(ct systemd-analyze verify --man=no sshnpd@demo.service srvd.service atserverd.socket atserverd.service 2>&1)
[ -z "$out" ] && pass "systemd-analyze verify: the installed units are clean" || fail "systemd-analyze verify: $out"

# --- 4. atserverd as a service: atSigns registered as its user first, then enable --now
ATS="/usr/bin/atserverd --data-dir /var/lib/atserverd"
for a in @client @relay @device; do
        # shellcheck disable=SC2086
        ct runuser -u atserverd -- $ATS --add-atsign "$a" > "$T/cram$a" 2> "$T/add.err" ||
                { cat "$T/add.err"; die "runuser -u atserverd -- atserverd --add-atsign $a"; }
done
out=$(ct stat -c '%U %a' /var/lib/atserverd/atserverd.db)
[ "$out" = "atserverd 600" ] && pass "--add-atsign as the atserverd user: atserverd.db is $out" ||
        fail "atserverd.db: '$out'"
printf 'ATSERVERD_ARGS=--hostname 127.0.0.1 -v\n' | ct tee /etc/noports/atserverd.conf > /dev/null
if ct systemctl enable --now atserverd.socket atserverd.service > "$T/enable-ats.log" 2>&1; then
        pass "systemctl enable --now atserverd.socket atserverd.service"
else
        cat "$T/enable-ats.log"; die "systemctl enable --now atserverd"
fi
for u in atserverd.socket atserverd.service; do
        [ "$(ct systemctl is-active "$u")" = active ] && [ "$(ct systemctl is-enabled "$u")" = enabled ] &&
                pass "$u is active and enabled" || fail "$u: $(ct systemctl is-active "$u")"
done
[ "$(ct systemctl show -P User atserverd.service)" = atserverd ] || fail "atserverd.service does not run as atserverd"
apid=$(ct systemctl show -P MainPID atserverd.service)
out=$(ct grep -E '^(Uid|CapEff|CapAmb):' "/proc/$apid/status" 2>/dev/null | tr -s '\t ' ' ' | tr '\n' ' ')
auid=$(ct id -u atserverd)
printf '%s' "$out" | grep -qE "^Uid: $auid $auid .*CapEff: 0+ CapAmb: 0+ $" &&
        pass "atserverd (pid $apid) runs as uid $auid with no capabilities: $out" || fail "atserverd process: '$out'"
ct systemctl show -P Listen atserverd.socket | grep -qE '(^|[^0-9])64 \(Stream\)' &&
        pass "atserverd.socket listens: $(ct systemctl show -P Listen atserverd.socket)" ||
        fail "atserverd.socket Listen: $(ct systemctl show -P Listen atserverd.socket)"
wait_journal atserverd.service "Root directory on the socket passed by the service manager (port 64)" &&
        pass "atserverd took the root socket passed by atserverd.socket" || fail "atserverd did not use the passed socket"
out=$(ct systemctl show -P StatusText atserverd.service)
printf '%s' "$out" | grep -qE '^Serving 3 atSigns, [0-9]+ connections?; root on port 64$' &&
        pass "atserverd STATUS=: $out" || fail "atserverd StatusText: '$out'"
ct install -m 0644 /var/lib/atserverd/ca.pem /etc/noports/ca.pem || die "no /var/lib/atserverd/ca.pem"
AT="--root-domain 127.0.0.1:64 --ca-file /etc/noports/ca.pem"
for a in @relay @device; do # the daemons' keys: ~noports/.atsign/keys/<atSign>_key.atKeys
        # shellcheck disable=SC2086
        ct runuser -u noports -- env HOME=/var/lib/noports at_activate onboard -a "$a" -c "$(cat "$T/cram$a")" $AT \
                > "$T/onboard$a.log" 2>&1 || { cat "$T/onboard$a.log"; die "onboarding $a"; }
done
# shellcheck disable=SC2086
ct env HOME=/var/lib/np-client at_activate onboard -a @client -c "$(cat "$T/cram@client")" $AT \
        > "$T/onboard@client.log" 2>&1 || { cat "$T/onboard@client.log"; die "onboarding @client"; }
pass "@client, @relay, @device onboarded with the atserverd service"

# an atSign registered while it runs: `systemctl reload` serves it in the same process
# shellcheck disable=SC2086
ct runuser -u atserverd -- $ATS --add-atsign @late > "$T/cram@late" 2> "$T/add.err" ||
        { cat "$T/add.err"; fail "--add-atsign @late while atserverd runs"; }
if ct systemctl reload atserverd.service && wait_journal atserverd.service "Reloaded: 1 new atSign, 4 served" &&
   [ "$(ct systemctl is-active atserverd.service)" = active ] &&
   [ "$(ct systemctl show -P MainPID atserverd.service)" = "$apid" ]; then
        pass "systemctl reload atserverd: @late served by the same process ($apid)"
else
        fail "systemctl reload atserverd: $(ct systemctl is-active atserverd.service)"
fi
for _ in $(seq 50); do ct systemctl show -P StatusText atserverd.service | grep -q '^Serving 4 atSigns' && break; sleep 0.1; done
out=$(ct systemctl show -P StatusText atserverd.service)
printf '%s' "$out" | grep -q '^Serving 4 atSigns' && pass "atserverd STATUS= after reload: $out" ||
        fail "atserverd StatusText after reload: '$out'"
# shellcheck disable=SC2086
ct env HOME=/var/lib/np-late at_activate onboard -a @late -c "$(cat "$T/cram@late")" $AT \
        > "$T/onboard@late.log" 2>&1 && pass "@late, registered while atserverd ran, onboarded after the reload" ||
        { cat "$T/onboard@late.log"; fail "onboarding @late"; }

# --- 5. configuration and `systemctl enable --now`
printf 'SRVD_ATSIGN=@relay\nSRVD_IP=127.0.0.1\nSRVD_ARGS=%s -v\n' "$AT" | ct tee /etc/noports/srvd.conf > /dev/null
printf 'SSHNPD_ATSIGN=@device\nSSHNPD_MANAGERS=@client\nSSHNPD_ARGS=%s -v\n' "$AT" |
        ct tee /etc/noports/sshnpd/demo.conf > /dev/null
if ct systemctl enable --now srvd.service sshnpd@demo.service > "$T/enable.log" 2>&1; then
        pass "systemctl enable --now srvd.service sshnpd@demo.service"
else
        cat "$T/enable.log"; die "systemctl enable --now"
fi
for u in srvd.service sshnpd@demo.service; do
        [ "$(ct systemctl is-active "$u")" = active ] && [ "$(ct systemctl is-enabled "$u")" = enabled ] &&
                pass "$u is active (Type=notify: READY=1 arrived) and enabled" || fail "$u: $(ct systemctl is-active "$u")"
        [ "$(ct systemctl show -P User "$u")" = noports ] || fail "$u does not run as noports"
done
# sshnpd says "Serving" once its monitor runs
for _ in $(seq 100); do ct systemctl show -P StatusText sshnpd@demo.service | grep -q '^Serving' && break; sleep 0.1; done
st=$(ct systemctl status --no-pager sshnpd@demo.service)
printf '%s\n' "$st" | grep -q 'Status: "Serving; 0 sessions active' &&
        pass "systemctl status sshnpd@demo shows its STATUS=: $(printf '%s\n' "$st" | grep 'Status:' | sed 's/^ *//')" ||
        fail "sshnpd@demo status text: $(printf '%s\n' "$st" | head -n 8)"
st=$(ct systemctl status --no-pager srvd.service)
printf '%s\n' "$st" | grep -qE 'Status: ".*0 sessions?' &&
        pass "systemctl status srvd shows its STATUS=: $(printf '%s\n' "$st" | grep 'Status:' | sed 's/^ *//')" ||
        fail "srvd status text: $(printf '%s\n' "$st" | head -n 8)"

# --- 6. the journal carries the structured fields
if ct journalctl --no-pager -u sshnpd@demo.service -o json NOPORTS_DEVICE=demo |
        grep -q '"NOPORTS_ATSIGN":"@device"'; then
        pass "journal: sshnpd@demo entries with NOPORTS_ATSIGN=@device and NOPORTS_DEVICE=demo"
else
        fail "journal: no sshnpd@demo entry with NOPORTS_ATSIGN=/NOPORTS_DEVICE="
fi
ct journalctl --no-pager -u srvd.service -o json NOPORTS_ATSIGN=@relay | grep -q '"NOPORTS_ATSIGN":"@relay"' &&
        pass "journal: srvd entries with NOPORTS_ATSIGN=@relay" || fail "journal: no srvd entry with NOPORTS_ATSIGN=@relay"

# --- 7. the bus names and ListSessions
names=$(ct busctl list --no-pager --no-legend --acquired)
for n in org.noports.Sshnpd1 org.noports.Sshnpd1.demo org.noports.Srvd1; do
        printf '%s\n' "$names" | grep -q "^$n " && pass "system bus: $n is owned" || fail "system bus: no $n"
done
SSHNPD_BUS=(org.noports.Sshnpd1 /org/noports/Sshnpd1 org.noports.Sshnpd1)
SRVD_BUS=(org.noports.Srvd1 /org/noports/Srvd1 org.noports.Srvd1)
out=$(ct busctl call "${SSHNPD_BUS[@]}" ListSessions) && [ "$out" = "a(sssstuo) 0" ] &&
        pass "sshnpd ListSessions: $out" || fail "sshnpd ListSessions: '$out'"
out=$(ct busctl call "${SRVD_BUS[@]}" ListSessions) && [ "$out" = "a(sssqqto) 0" ] &&
        pass "srvd ListSessions: $out" || fail "srvd ListSessions: '$out'"
out=$(ct busctl get-property "${SSHNPD_BUS[@]}" Device)
[ "$out" = 's "demo"' ] && pass "sshnpd Device property: $out" || fail "sshnpd Device property: '$out'"

# --- 8. an sshnp session through srvd to the container's sshd
# shellcheck disable=SC2086
cmd=$(ct env HOME=/var/lib/np-client sshnp -f @client -t @device -d demo -r @relay -u root \
        -i /var/lib/np-client/.ssh/id_ed25519 -x -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no \
        -o BatchMode=yes $AT 2> "$T/sshnp.err" | grep -E '^ssh ' | tail -n 1)
SESSION=""
if [ -z "$cmd" ]; then
        cat "$T/sshnp.err"; fail "sshnp -x printed no ssh command"
else
        MARK="ran-on-$NAME"
        # shellcheck disable=SC2086
        ct env HOME=/var/lib/np-client timeout 60 $cmd "echo $MARK; id -un; sleep 30" > "$T/ssh.out" 2> "$T/ssh.err" &
        SSH_PID=$!
        SSH_START=$SECONDS
        for _ in $(seq 150); do grep -qx root "$T/ssh.out" 2>/dev/null && break; sleep 0.1; done
        for _ in $(seq 100); do
                out=$(ct busctl call "${SSHNPD_BUS[@]}" ListSessions)
                SESSION=$(printf '%s\n' "$out" | sed -nE 's/^a\(sssstuo\) 1 "([^"]+)" "@client" .*/\1/p')
                [ -n "$SESSION" ] && break
                sleep 0.1
        done
        [ -n "$SESSION" ] && pass "the session is in sshnpd's ListSessions: $out" ||
                fail "no session in sshnpd's ListSessions: '$out'"
        out=$(ct busctl call "${SRVD_BUS[@]}" ListSessions)
        printf '%s\n' "$out" | grep -q '^a(sssqqto) 1 ' && pass "the session is in srvd's ListSessions: $out" ||
                fail "srvd's ListSessions: '$out'"
        # polkit: an unprivileged user may not close it (the daemons ask polkitd and refuse)
        if [ -n "$SESSION" ]; then
                out=$(ct setpriv --reuid=nobody --regid=nogroup --clear-groups \
                        busctl call "${SSHNPD_BUS[@]}" CloseSession s "$SESSION" 2>&1)
                rc=$?
                if [ $rc -ne 0 ] && printf '%s' "$out" | grep -qiE 'not authori|denied' &&
                   wait_journal sshnpd@demo.service "Refused to close session $SESSION: caller not authorized"; then
                        pass "sshnpd CloseSession by user nobody refused by polkit: $out"
                else
                        fail "sshnpd CloseSession by nobody: rc=$rc '$out'"
                fi
                out=$(ct setpriv --reuid=nobody --regid=nogroup --clear-groups \
                        busctl call "${SRVD_BUS[@]}" CloseSession s "$SESSION" 2>&1)
                rc=$?
                if [ $rc -ne 0 ] && printf '%s' "$out" | grep -qiE 'not authori|denied' &&
                   wait_journal srvd.service "Refused to close session $SESSION: caller not authorized"; then
                        pass "srvd CloseSession by user nobody refused by polkit: $out"
                else
                        fail "srvd CloseSession by nobody: rc=$rc '$out'"
                fi
                [ "$(ct systemctl is-active polkit.service)" = active ] &&
                        pass "polkit.service was bus-activated for the checks" || fail "polkit.service is not active"
                out=$(ct busctl call "${SSHNPD_BUS[@]}" ListSessions)
                printf '%s\n' "$out" | grep -q "\"$SESSION\"" && pass "the session survived the refused closes" ||
                        fail "the session is gone after refused closes: '$out'"
                ! ct journalctl --no-pager -u sshnpd@demo.service -u srvd.service -o cat | grep 'polkit check.*failed' &&
                        pass "polkit answered the daemons' checks (no errors)" || fail "polkit checks failed (above)"
                # control: the user a polkit rule allows may close it; ssh then ends long before its sleep
                out=$(ct setpriv --reuid=npadmin --regid=npadmin --clear-groups \
                        busctl call "${SRVD_BUS[@]}" CloseSession s no-such-session 2>&1)
                printf '%s' "$out" | grep -q 'No session no-such-session' &&
                        pass "srvd: npadmin is authorized by the polkit rule ($out)" || fail "srvd CloseSession by npadmin: '$out'"
                if ct setpriv --reuid=npadmin --regid=npadmin --clear-groups \
                        busctl call "${SSHNPD_BUS[@]}" CloseSession s "$SESSION"; then
                        pass "sshnpd: npadmin's CloseSession is authorized by the polkit rule"
                else
                        fail "sshnpd: npadmin's CloseSession failed"
                fi
                for _ in $(seq 100); do
                        out=$(ct busctl call "${SSHNPD_BUS[@]}" ListSessions)
                        [ "$out" = "a(sssstuo) 0" ] && break
                        sleep 0.1
                done
                [ "$out" = "a(sssstuo) 0" ] && pass "closed session left ListSessions" ||
                        fail "ListSessions after root's close: '$out'"
        fi
        wait "$SSH_PID"
        rc=$?
        if grep -qx "$MARK" "$T/ssh.out" && grep -qx root "$T/ssh.out"; then
                pass "ssh through sshnp ran a command on the device: $(tr '\n' ' ' < "$T/ssh.out")"
        else
                fail "ssh session: rc=$rc out='$(cat "$T/ssh.out")'"; cat "$T/ssh.err"
        fi
        # it sleeps 30 s on the device unless the close above cut the tunnel
        if [ -n "$SESSION" ]; then
                [ $rc -ne 0 ] && [ $((SECONDS - SSH_START)) -lt 25 ] &&
                        pass "closing the session ended the ssh connection (rc=$rc after $((SECONDS - SSH_START)) s)" ||
                        fail "ssh went on after its session was closed (rc=$rc after $((SECONDS - SSH_START)) s)"
        fi
fi
if [ -n "$SESSION" ]; then
        n=$(ct journalctl --no-pager -u sshnpd@demo.service -o json "NOPORTS_SESSION=$SESSION" | wc -l)
        [ "$n" -gt 0 ] && pass "journal: $n sshnpd@demo entries with NOPORTS_SESSION=$SESSION" ||
                fail "journal: no entry with NOPORTS_SESSION=$SESSION"
        ct journalctl --no-pager -u srvd.service -o json "NOPORTS_SESSION=$SESSION" | grep -q . &&
                pass "journal: srvd entries with NOPORTS_SESSION=$SESSION" ||
                fail "journal: no srvd entry with NOPORTS_SESSION=$SESSION"
        out=$(ct busctl get-property "${SSHNPD_BUS[@]}" NSessionsTotal)
        [ "$out" = "u 1" ] && pass "sshnpd NSessionsTotal: $out" || fail "sshnpd NSessionsTotal: '$out'"
fi

# --- 9. stop is clean (STOPPING=1, exit 0), restart works
pid=$(ct systemctl show -P MainPID sshnpd@demo.service)
ct systemctl stop sshnpd@demo.service
res=$(ct systemctl show -P Result sshnpd@demo.service)
code=$(ct systemctl show -P ExecMainStatus sshnpd@demo.service)
if [ "$(ct systemctl is-active sshnpd@demo.service)" = inactive ] && [ "$res" = success ] && [ "$code" = 0 ]; then
        pass "systemctl stop: sshnpd@demo exited cleanly (Result=$res, status $code)"
else
        fail "systemctl stop: state $(ct systemctl is-active sshnpd@demo.service), Result=$res, status=$code"
fi
ct journalctl --no-pager -u sshnpd@demo.service _PID="$pid" -o cat | grep -q 'stopping' &&
        pass "sshnpd logged its orderly stop" || fail "no 'stopping' message from sshnpd (pid $pid)"
ct busctl list --no-pager --no-legend --acquired | grep -q '^org.noports.Sshnpd1 ' &&
        fail "org.noports.Sshnpd1 still owned after stop" || pass "org.noports.Sshnpd1 released after stop"
ct systemctl start sshnpd@demo.service || fail "systemctl start after stop"
ct systemctl restart srvd.service sshnpd@demo.service || fail "systemctl restart"
for u in srvd.service sshnpd@demo.service; do
        [ "$(ct systemctl is-active "$u")" = active ] && pass "$u active again after restart" ||
                fail "$u after restart: $(ct systemctl is-active "$u")"
done
# reload: SIGHUP, RELOADING=1 then READY=1; the unit stays active in the same process
rpid=$(ct systemctl show -P MainPID sshnpd@demo.service)
if ct systemctl reload srvd.service sshnpd@demo.service &&
   [ "$(ct systemctl is-active sshnpd@demo.service)" = active ] && [ "$(ct systemctl is-active srvd.service)" = active ] &&
   [ "$(ct systemctl show -P MainPID sshnpd@demo.service)" = "$rpid" ] &&
   wait_journal sshnpd@demo.service "Reloading"; then
        pass "systemctl reload: both units stay active, sshnpd reloaded in place"
else
        fail "systemctl reload"
fi
newpid=$(ct systemctl show -P MainPID sshnpd@demo.service)
[ "$newpid" != "$pid" ] && [ "$newpid" != 0 ] || fail "sshnpd@demo has the same main pid after restart"
n=$(ct systemctl show -P NRestarts sshnpd@demo.service)
[ "$n" = 0 ] && pass "no automatic restarts (no crash): NRestarts=$n" || fail "sshnpd@demo NRestarts=$n"
for _ in $(seq 100); do
        ct busctl list --no-pager --no-legend --acquired | grep -q '^org.noports.Sshnpd1 ' && break
        sleep 0.1
done
out=$(ct busctl call "${SSHNPD_BUS[@]}" ListSessions) && pass "ListSessions after restart: $out" ||
        fail "ListSessions after restart"

# --- 10. atserverd: found without a reload, restarted after a crash, socket activated after stop
# shellcheck disable=SC2086
ct runuser -u atserverd -- $ATS --add-atsign @later > "$T/cram@later" 2> "$T/add.err" ||
        { cat "$T/add.err"; fail "--add-atsign @later"; }
# shellcheck disable=SC2086
ct env HOME=/var/lib/np-later at_activate onboard -a @later -c "$(cat "$T/cram@later")" $AT \
        > "$T/onboard@later.log" 2>&1 && pass "@later onboarded without a reload: the root found it in the store" ||
        { cat "$T/onboard@later.log"; fail "onboarding @later without a reload"; }
apid=$(ct systemctl show -P MainPID atserverd.service)
ct kill -KILL "$apid"
for _ in $(seq 100); do
        newpid=$(ct systemctl show -P MainPID atserverd.service)
        [ "$(ct systemctl is-active atserverd.service)" = active ] && [ "$newpid" != "$apid" ] && [ "$newpid" != 0 ] &&
                break
        sleep 0.1
done
n=$(ct systemctl show -P NRestarts atserverd.service)
[ "$(ct systemctl is-active atserverd.service)" = active ] && [ "$n" = 1 ] &&
        pass "atserverd killed with SIGKILL: restarted (Restart=on-failure, NRestarts=$n, pid $newpid)" ||
        fail "atserverd after SIGKILL: $(ct systemctl is-active atserverd.service), NRestarts=$n"
# what was stored before the crash is there: @late's keys log in, its public key is listed
# shellcheck disable=SC2086
ct env HOME=/var/lib/np-late at_cli -a @late $AT scan > "$T/scan@late.out" 2> "$T/scan@late.err" &&
        grep -qx 'public:publickey@late' "$T/scan@late.out" &&
        pass "@late logs in after the restart and its public key is there" ||
        { cat "$T/scan@late.err"; fail "at_cli scan as @late after the restart: $(head -c 300 "$T/scan@late.out")"; }
out=$(ct systemctl show -P StatusText atserverd.service)
printf '%s' "$out" | grep -q '^Serving 5 atSigns' && pass "atserverd after the restart: $out" ||
        fail "atserverd StatusText after restart: '$out'"
ct systemctl stop atserverd.service
res=$(ct systemctl show -P Result atserverd.service)
code=$(ct systemctl show -P ExecMainStatus atserverd.service)
[ "$(ct systemctl is-active atserverd.service)" = inactive ] && [ "$res" = success ] && [ "$code" = 0 ] &&
        pass "systemctl stop atserverd: clean exit (Result=$res, status $code)" ||
        fail "systemctl stop atserverd: Result=$res, status=$code"
[ "$(ct systemctl is-active atserverd.socket)" = active ] && pass "atserverd.socket still listens after the stop" ||
        fail "atserverd.socket: $(ct systemctl is-active atserverd.socket)"
ct bash -c 'exec 3<>/dev/tcp/127.0.0.1/64' || fail "connecting to port 64 after the stop"
for _ in $(seq 100); do [ "$(ct systemctl is-active atserverd.service)" = active ] && break; sleep 0.1; done
[ "$(ct systemctl is-active atserverd.service)" = active ] &&
        pass "a connection to port 64 started atserverd.service again (socket activation)" ||
        fail "atserverd.service after a connection to its socket: $(ct systemctl is-active atserverd.service)"

[ $failures -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all system checks passed"
