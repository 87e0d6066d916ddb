#!/bin/bash
# The control channel of srv's multi mode (AES-CTR without integrity, so a relay that knows
# plain text knows key stream to forge with). The daemon side obeys only control messages that
# fit its session: in an encrypted session a "connect:no:encrypt" opens nothing, while a proper
# "connect:<key>:<iv>" still does (a fake relay plays the client's side). The client side sends
# a heartbeat every --heartbeat seconds, each with a random number instead of a counter.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-$(dirname "$0")/../../build}
SRV="$BUILD_DIR/src/srv/srv"
tmp=$(mktemp -d)
pids=()
cleanup() {
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$tmp"
}
trap cleanup EXIT

/usr/bin/python3 - "$SRV" "$tmp" <<'PYEOF'
import base64, os, socket, subprocess, sys, threading, time
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
srv, tmp = sys.argv[1], sys.argv[2]
failures = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond: failures.append(what)

# the local service: counts connections
local = socket.socket(); local.bind(("127.0.0.1", 0)); local.listen(8)
local_conns = []
def serve_local():
    while True:
        c, _ = local.accept(); local_conns.append(c)
threading.Thread(target=serve_local, daemon=True).start()

relay = socket.socket(); relay.bind(("127.0.0.1", 0)); relay.listen(8); relay.settimeout(5)
key, iv = os.urandom(32), os.urandom(16)
env = dict(os.environ, RV_AES=base64.b64encode(key).decode(), RV_IV=base64.b64encode(iv).decode())
log = open(os.path.join(tmp, "srv.log"), "w")
p = subprocess.Popen([srv, "-h", "127.0.0.1", "-p", str(relay.getsockname()[1]), "--local-port",
                      str(local.getsockname()[1]), "--local-host", "127.0.0.1", "--rv-e2ee", "--multi",
                      "--timeout", "20"], env=env, stderr=log)
try:
    control, _ = relay.accept()
    # the client's side of the control channel: C2D = the session key, one CTR stream
    enc = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    def next_socket(within):
        relay.settimeout(within)
        try:
            s, _ = relay.accept(); return s
        except socket.timeout:
            return None

    control.sendall(enc.update(b"heartbeat:1\nconnect:no:encrypt\n"))
    s = next_socket(2)
    check(s is None and not local_conns, "encrypted session: connect:no:encrypt opens nothing")
    check(p.poll() is None, "the daemon srv keeps running")

    k2, iv2 = base64.b64encode(os.urandom(32)), base64.b64encode(os.urandom(16))
    control.sendall(enc.update(b"connect:" + k2 + b":" + iv2 + b"\n"))
    s = next_socket(5)
    time.sleep(0.5)
    check(s is not None and len(local_conns) == 1, "a keyed connect still opens a connection")
finally:
    p.kill(); p.wait()

# the client side's heartbeats come every --heartbeat seconds and carry nothing the relay can predict beyond "heartbeat:" (every
# predictable byte is a byte of key stream for forging control messages)
k2 = os.urandom(32); iv2 = os.urandom(16)
env = dict(os.environ, RV_AES_C2D=base64.b64encode(key).decode(), RV_IV_C2D=base64.b64encode(iv).decode(),
           RV_AES_D2C=base64.b64encode(k2).decode(), RV_IV_D2C=base64.b64encode(iv2).decode())
relay.settimeout(5)
lp = socket.socket(); lp.bind(("127.0.0.1", 0)); free_port = lp.getsockname()[1]; lp.close()
p = subprocess.Popen([srv, "-h", "127.0.0.1", "-p", str(relay.getsockname()[1]), "--local-port", str(free_port),
                      "--local-host", "127.0.0.1", "--bind-local-port", "--rv-e2ee", "--multi", "--timeout", "20",
                      "--heartbeat", "1"], env=env, stderr=log)
try:
    control, _ = relay.accept()
    dec = Cipher(algorithms.AES(key), modes.CTR(iv)).decryptor()
    control.settimeout(5)
    text = b""
    t0 = time.time()
    while text.count(b"\n") < 2 and time.time() - t0 < 6:
        try:
            d = control.recv(1024)
        except socket.timeout:
            break
        if not d: break
        text += dec.update(d)
    beats = text.split(b"\n")[:2]
    nums = [int(b[10:]) if b.startswith(b"heartbeat:") and b[10:].isdigit() else -1 for b in beats]
    check(len(nums) == 2 and all(n >= 1 << 62 for n in nums) and nums[0] != nums[1],
          "two heartbeats in 3 s, not predictable: %r" % beats)
finally:
    p.kill(); p.wait()
log.close()
if failures:
    sys.stdout.write(open(os.path.join(tmp, "srv.log")).read())
sys.exit(1 if failures else 0)
PYEOF
echo "TEST PASSED"
