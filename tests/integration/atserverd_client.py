#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A small atProtocol client for atserverd's shell tests (before and beside at_cli).

Usage as a program:
  atserverd_client.py onboard ROOT_HOST:PORT CA_FILE @alice CRAM_SECRET KEYDIR
      CRAM login, publish a PKAM public key (update:privatekey:at_pkam_publickey), PKAM login to prove it.
  atserverd_client.py cmd ROOT CA @alice KEYDIR [COMMAND...]
      PKAM login, then send each command and print each response line.
  atserverd_client.py raw ROOT CA @alice [COMMAND...]   (no login)
"""
import base64
import hashlib
import os
import socket
import ssl
import sys
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa


def tls_connect(host, port, ca, timeout=10):
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection((host, int(port)), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname=host)


class Conn:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def read_until(self, pred, timeout=10):
        self.sock.settimeout(timeout)
        while True:
            r = pred(self.buf)
            if r is not None:
                return r
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed; buffer=%r" % self.buf[:200])
            self.buf += chunk

    def read_prompt(self):
        # greeting: "@"
        def p(b):
            if b.startswith(b"@"):
                self.buf = b[1:]
                return True
            return None
        return self.read_until(p)

    def send(self, line):
        self.sock.sendall(line.encode() + b"\n")

    def response(self, timeout=10):
        """one 'data:...'/'error:...' line; the prompt after it is consumed"""
        def p(b):
            i = b.find(b"\n")
            if i < 0:
                return None
            line = b[:i].decode()
            rest = b[i + 1:]
            # prompt: "@" or "@alice@"
            if not rest.startswith(b"@"):
                return None
            j = rest.find(b"@", 1)
            # a bare "@" is followed by the next answer; "@d@", "@e@" are atSigns' prompts
            if rest == b"@" or rest[1:].startswith((b"data:", b"error:", b"notification:")):
                self.buf = rest[1:]
                return line
            if j < 0:
                return None
            self.buf = rest[j + 1:]
            return line
        return self.read_until(p, timeout)

    def cmd(self, line, timeout=10):
        self.send(line)
        return self.response(timeout)

    def close(self):
        try:
            self.sock.close()
        except Exception:
            pass


def root_lookup(root, ca, atsign):
    host, port = root.rsplit(":", 1)
    s = tls_connect(host, port, ca)
    c = Conn(s)
    c.read_prompt()
    c.send(atsign.lstrip("@"))
    line = c.read_until(lambda b: b[:b.find(b"\n")].decode().strip() if b"\n" in b else None)
    c.close()
    if line == "null":
        raise LookupError("unknown atSign " + atsign)
    h, p = line.rsplit(":", 1)
    return h, int(p)


def secondary(root, ca, atsign):
    h, p = root_lookup(root, ca, atsign)
    c = Conn(tls_connect(h, p, ca))
    c.read_prompt()
    return c


def challenge_of(c, atsign):
    r = c.cmd("from:" + atsign)
    assert r.startswith("data:"), r
    return r[5:]


def cram(c, atsign, secret):
    ch = challenge_of(c, atsign)
    digest = hashlib.sha512((secret + ch).encode()).hexdigest()
    return c.cmd("cram:" + digest)


def load_key(keydir, atsign):
    with open(os.path.join(keydir, atsign + ".pem"), "rb") as f:
        return serialization.load_pem_private_key(f.read(), None)


def pkam(c, atsign, key):
    ch = challenge_of(c, atsign)
    sig = key.sign(ch.encode(), padding.PKCS1v15(), hashes.SHA256())
    return c.cmd("pkam:" + base64.b64encode(sig).decode())


def onboard(root, ca, atsign, secret, keydir):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pub = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    c = secondary(root, ca, atsign)
    r = cram(c, atsign, secret)
    assert r == "data:success", r
    r = c.cmd("update:privatekey:at_pkam_publickey " + base64.b64encode(pub).decode())
    assert r.startswith("data:"), r
    c.close()
    os.makedirs(keydir, exist_ok=True)
    with open(os.path.join(keydir, atsign + ".pem"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    c = secondary(root, ca, atsign)
    r = pkam(c, atsign, key)
    assert r == "data:success", r
    c.close()


def main(argv):
    op = argv[1]
    if op == "onboard":
        onboard(argv[2], argv[3], argv[4], argv[5], argv[6])
        print("onboarded")
        return 0
    if op == "cmd":
        root, ca, atsign, keydir = argv[2:6]
        c = secondary(root, ca, atsign)
        r = pkam(c, atsign, load_key(keydir, atsign))
        if r != "data:success":
            print(r)
            return 1
        for line in argv[6:]:
            print(c.cmd(line))
        c.close()
        return 0
    if op == "raw":
        root, ca, atsign = argv[2:5]
        c = secondary(root, ca, atsign)
        for line in argv[5:]:
            print(c.cmd(line))
        c.close()
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
