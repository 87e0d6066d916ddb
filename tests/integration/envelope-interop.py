#!/usr/bin/python3
# Our signed envelopes against an independent implementation (python3-cryptography, Python's json):
# a signature our code makes verifies here over the exact payload bytes, and one made here verifies
# with our code, for a payload with non-ASCII, '/', quotes, backslashes and control characters.
# Usage: envelope-interop.py PATH-TO-noports-envelope-tool
import base64, json, os, subprocess, sys, tempfile
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

tool = sys.argv[1]
failures = 0

def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures += 1

def run(args, data):
    p = subprocess.run([tool] + args, input=data, capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
tmp = tempfile.mkdtemp()
priv_path, pub_path = os.path.join(tmp, "priv"), os.path.join(tmp, "pub")
with open(priv_path, "w") as f:
    f.write(base64.b64encode(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption())).decode() + "\n")
with open(pub_path, "w") as f:
    f.write(base64.b64encode(key.public_key().public_bytes(serialization.Encoding.DER,
                                                           serialization.PublicFormat.SubjectPublicKeyInfo)).decode() + "\n")

# The bytes Dart's jsonEncode writes for this payload (only '"', '\' and control characters are
# escaped, \u00xx in lower case; '/', DEL and non-ASCII raw), written out by hand ...
payload_bytes = ('{"sessionId":"d2f1c0a4-4b1e-4c3a-9f0e-2a1b3c4d5e6f","host":"relay.example/π",'
                 '"path":"/home/ünïcödé/.ssh/authorized_keys","note":"Grüße aus 東京 ✓ 🚀 </script>",'
                 '"quote":"say \\"hi\\" \\\\ back\\\\slash","ctl":"tab\\tnl\\ncr\\r\\u001f\\u0007end\x7f",'
                 '"port":40002,"timeout":60000,"direct":true,"nothing":null,"list":[1,"/",{"ü":false}]}')
# ... and Python's json agrees with them (an independent serialiser)
obj = json.loads(payload_bytes)
check(json.dumps(obj, ensure_ascii=False, separators=(",", ":")) == payload_bytes,
      "Python's compact json writes the same bytes as Dart for the test payload")
raw = payload_bytes.encode("utf-8")

def py_sign(data):
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode()

def py_verify(sig_b64, data):
    try:
        key.public_key().verify(base64.b64decode(sig_b64), data, padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False

# 1. ours -> theirs
rc, out, err = run(["sign", priv_path], raw)
check(rc == 0, "our tool signs the payload" + ("" if rc == 0 else ": " + err))
env = json.loads(out) if rc == 0 else {}
sig = env.get("signature", "")
check(out == b'{"payload":' + raw + b',"signature":"' + sig.encode() + b'","hashingAlgo":"sha256","signingAlgo":"rsa2048"}',
      "our envelope embeds the payload bytes unchanged, fields in upstream's order")
check(py_verify(sig, raw), "python3-cryptography verifies our signature over the exact UTF-8 bytes")
check(sig == py_sign(raw), "our signature equals python's (PKCS#1 v1.5 is deterministic)")

# 2. theirs -> ours
envelope = '{"payload":%s,"signature":"%s","hashingAlgo":"sha256","signingAlgo":"rsa2048"}' % (payload_bytes, py_sign(raw))
rc, out, err = run(["verify", pub_path], envelope.encode("utf-8"))
check(rc == 0, "our code verifies python's signature" + ("" if rc == 0 else ": " + err))
check(out == raw, "our verifier rebuilds exactly the bytes python signed")
# the same envelope as a pretty-printing sender would write it (whitespace outside the signed bytes)
pretty = json.dumps({"signature": py_sign(raw), "hashingAlgo": "sha256", "signingAlgo": "rsa2048",
                     "payload": obj}, ensure_ascii=True, indent=2)
rc, out, err = run(["verify", pub_path], pretty.encode())
check(rc == 0 and out == raw, "verifies when the envelope is re-indented and non-ASCII is \\u-escaped")

# 3. refusals: a changed payload; a signature over '\/'-escaped bytes (not Dart's bytes)
tampered = envelope.replace('"port":40002', '"port":40003')
rc, _, _ = run(["verify", pub_path], tampered.encode("utf-8"))
check(rc == 1, "a changed payload is refused")
escaped = payload_bytes.replace("/", "\\/")
bad = '{"payload":%s,"signature":"%s","hashingAlgo":"sha256","signingAlgo":"rsa2048"}' % (escaped, py_sign(escaped.encode()))
rc, out, _ = run(["verify", pub_path], bad.encode("utf-8"))
check(rc == 1 and out == raw, "a signature over '\\/'-escaped bytes is refused (Dart writes '/')")
ascii_signed = json.dumps(obj, ensure_ascii=True, separators=(",", ":"))
bad = '{"payload":%s,"signature":"%s","hashingAlgo":"sha256","signingAlgo":"rsa2048"}' % (ascii_signed, py_sign(ascii_signed.encode()))
rc, _, _ = run(["verify", pub_path], bad.encode())
check(rc == 1, "a signature over \\u-escaped non-ASCII bytes is refused (Dart writes raw UTF-8)")

print("%d failure(s)" % failures if failures else "all envelope interop checks passed")
sys.exit(1 if failures else 0)
