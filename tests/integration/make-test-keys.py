#!/usr/bin/python3
# make-test-keys.py ATSIGN PATH: writes a throwaway .atKeys file in upstream's format (RSA-2048
# PKAM and encryption key pairs as base64 DER, each AES-256-CTR/PKCS#7 encrypted with a zero IV
# under selfEncryptionKey, base64 again). For tests that need a daemon to start, not to log in.
import base64, json, os, sys
from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

atsign, path = sys.argv[1], sys.argv[2]
self_key = os.urandom(32)

def enc(text):
    p = padding.PKCS7(128).padder()
    data = p.update(text.encode()) + p.finalize()
    e = Cipher(algorithms.AES(self_key), modes.CTR(bytes(16))).encryptor()
    return base64.b64encode(e.update(data) + e.finalize()).decode()

def pair():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv = k.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(pub).decode(), base64.b64encode(priv).decode()

pkam_pub, pkam_priv = pair()
enc_pub, enc_priv = pair()
sk = base64.b64encode(self_key).decode()
doc = {"aesPkamPublicKey": enc(pkam_pub), "aesPkamPrivateKey": enc(pkam_priv),
       "aesEncryptPublicKey": enc(enc_pub), "aesEncryptPrivateKey": enc(enc_priv),
       "selfEncryptionKey": sk, atsign: sk}
os.makedirs(os.path.dirname(path), exist_ok=True)
with open(path, "w") as f:
    json.dump(doc, f)
os.chmod(path, 0o600)
