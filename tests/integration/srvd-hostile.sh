#!/bin/bash
# The relay engine against peers that exhaust it: when connections to a session's port use up
# its file descriptors, the listener pauses instead of spinning on accept() (which ran a core
# at 100% and wrote hundreds of thousands of log lines a second).
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-$(dirname "$0")/../../build}
RELAY="$BUILD_DIR/src/srvd/srvd-test-session"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
[ -x "$RELAY" ] || { echo "SKIP: srvd-test-session not built"; exit 77; }

/usr/bin/python3 - "$RELAY" "$T" <<'PYEOF'
import os, socket, subprocess, sys, time
relay, tmp = sys.argv[1], sys.argv[2]
log = os.path.join(tmp, "relay.log")
# 24 descriptors: the limit is reached after about 16 accepted sockets
p = subprocess.Popen(["prlimit", "--nofile=24", relay, "--grace", "30", "--bind", "127.0.0.1", "sid", "nonce"],
                     stdout=subprocess.PIPE, stderr=open(log, "w"), text=True)
failures = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond: failures.append(what)
try:
    pa, pb, nonce = p.stdout.readline().split()
    socks = [socket.create_connection(("127.0.0.1", int(pa))) for _ in range(40)]
    time.sleep(0.5)
    def cpu():
        f = open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    c0 = cpu(); time.sleep(3); used = cpu() - c0
    lines = sum(1 for _ in open(log))
    check(used < 0.5, "out of descriptors: %.2f CPU seconds in 3 s" % used)
    check(lines < 20, "out of descriptors: %d log lines" % lines)
    check(p.poll() is None, "the relay keeps running")
    for s in socks: s.close()
finally:
    p.kill(); p.wait()
if failures:
    sys.stdout.write("".join(open(log).readlines()[:10]))
sys.exit(1 if failures else 0)
PYEOF
echo "TEST PASSED"
