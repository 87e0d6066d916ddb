#!/bin/bash
# atserverd refuses what the protocol refuses (wrong PKAM signature, unknown atSign, verbs before
# authentication, an oversized line, garbage bytes, a client that says nothing), logs each
# refusal, and serves a well-behaved client throughout.
set -euo pipefail
BUILD_DIR=${BUILD_DIR:-$(dirname "$0")/../../build}
SOURCE_DIR=${SOURCE_DIR:-$(dirname "$0")/../..}
SERVER="$BUILD_DIR/src/atserverd/atserverd"
CLIENT="$SOURCE_DIR/tests/integration/atserverd_client.py"
PY=/usr/bin/python3
T=$(mktemp -d)
PID=
cleanup() {
        [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

"$SERVER" --data-dir "$T/data" --add-atsign @alice > "$T/secret"
"$SERVER" --data-dir "$T/data" --root-port 0 --max-line 4096 --idle-timeout 2 > "$T/log" 2>&1 &
PID=$!
for _ in $(seq 50); do grep -q "Root directory on" "$T/log" && break; sleep 0.1; done
ROOT=localhost:$(grep -o "Root directory on 127.0.0.1:[0-9]*" "$T/log" | cut -d: -f2)

"$PY" "$CLIENT" onboard "$ROOT" "$T/data/ca.pem" @alice "$(cat "$T/secret")" "$T/keys" >/dev/null

"$PY" - "$CLIENT" "$ROOT" "$T/data/ca.pem" "$T/keys" <<'PYEOF'
import importlib.util, os, socket, ssl, sys, threading, time
spec = importlib.util.spec_from_file_location("c", sys.argv[1]); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
root, ca, keys = sys.argv[2:5]
failures = []
def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond: failures.append(what)

# a well-behaved client, served throughout
good_ok = []; stop = threading.Event()
def good():
    g = c.secondary(root, ca, "@alice")
    assert c.pkam(g, "@alice", c.load_key(keys, "@alice")) == "data:success"
    i = 0
    while not stop.is_set():
        r = g.cmd("update:good%d@alice v%d" % (i, i)); good_ok.append(r.startswith("data:"))
        r = g.cmd("llookup:good%d@alice" % i); good_ok.append(r == "data:v%d" % i)
        i += 1; time.sleep(0.05)
    g.close()
t = threading.Thread(target=good); t.start()

h, p = c.root_lookup(root, ca, "@alice")
# unknown atSign: the root answers null
try:
    c.root_lookup(root, ca, "@nobody"); check(False, "unknown atSign -> null")
except LookupError:
    check(True, "unknown atSign -> null")

# verbs before authentication
s = c.Conn(c.tls_connect(h, p, ca)); s.read_prompt()
for cmd in ("update:x@alice v", "llookup:phone@alice", "monitor", "notify:status:abc", "delete:x@alice"):
    r = s.cmd(cmd)
    check(r.startswith("error:AT0401"), "before auth: %s -> %s" % (cmd, r))
r = s.cmd("lookup:signing_publickey@alice")
check(r.startswith("data:MII"), "before auth: public lookup allowed")
# wrong PKAM signature
key = c.load_key(keys, "@alice")
ch = c.challenge_of(s, "@alice")
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
import base64
bad = key.sign((ch + "x").encode(), padding.PKCS1v15(), hashes.SHA256())
r = s.cmd("pkam:" + base64.b64encode(bad).decode())
check(r.startswith("error:AT0401"), "wrong PKAM signature -> " + r)
r = s.cmd("update:x@alice v")
check(r.startswith("error:AT0401"), "still unauthenticated after a wrong signature")
r = s.cmd("pkam:" + base64.b64encode(key.sign(ch.encode(), padding.PKCS1v15(), hashes.SHA256())).decode())
check(r.startswith("error:AT0401"), "a challenge is not reusable after a failed login")
# garbage after TLS
r = s.cmd("\x01\x02\x03 garbage")
check(r.startswith("error:AT0003"), "garbage line -> " + r)
s.close()

# oversized line: refused and closed
s = c.Conn(c.tls_connect(h, p, ca)); s.read_prompt()
s.sock.sendall(b"update:big@alice " + b"a" * 20000)
try:
    r = s.read_until(lambda b: b[:b.find(b"\n")].decode() if b"\n" in b else None)
    check(r.startswith("error:AT0005"), "oversized line -> " + r)
    try:
        s.sock.settimeout(3); gone = s.sock.recv(100) == b""
    except socket.timeout:
        gone = False  # still open after 3 s: not closed
    except (ssl.SSLError, OSError):
        gone = True
    check(gone, "oversized line: connection closed")
except (EOFError, OSError) as e:
    check(False, "oversized line: " + str(e))

# garbage bytes instead of TLS
raw = socket.create_connection((h, p), timeout=5)
raw.sendall(os.urandom(300) + b"\n")
gone = False
try:
    # a TLS alert may come first; closed means end of stream within the timeout
    for _ in range(10):
        if raw.recv(4096) == b"":
            gone = True
            break
except socket.timeout:
    gone = False
except OSError:
    gone = True  # reset by the server
check(gone, "garbage bytes: connection closed")
raw.close()

# a silent client is closed after the idle timeout (2 s here)
s = c.tls_connect(h, p, ca)
t0 = time.time(); s.settimeout(10)
try:
    data = s.recv(10)          # the prompt
    while data:
        data = s.recv(10)
except (ssl.SSLError, OSError):
    pass
el = time.time() - t0
check(1.5 < el < 6, "silent client closed after %.1f s" % el)

stop.set(); t.join()
check(len(good_ok) > 10 and all(good_ok), "well-behaved client served throughout (%d answers)" % len(good_ok))
sys.exit(1 if failures else 0)
PYEOF

# the server still runs and logged each kind of refusal
kill -0 "$PID"
for what in "before authentication" "pkam signature check failed" "line longer than" "idle timeout" "unknown"; do
        grep -q "$what" "$T/log" || { echo "FAIL: no log line for '$what'"; cat "$T/log"; exit 1; }
done
# never a secret in the log
if grep -q "$(cat "$T/secret")" "$T/log"; then echo "FAIL: CRAM secret in the log"; exit 1; fi
echo "TEST PASSED"
