#!/usr/bin/env python3
"""Independent implementation of the ChatCrypto X3DH KDF and Double Ratchet with header
encryption (crypto.md §8.3-8.4), using only pyca/cryptography. Writes ratchet_vectors.json,
which Tests/ChatCryptoTests/RatchetVectorTests.swift recomputes byte for byte.

Run: python3 generate_vectors.py  (from this directory)
"""
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, PrivateFormat, NoEncryption


def hkdf(ikm, salt, info, length):
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt or None, info=info).derive(ikm)


class Curve:
    def __init__(self, suite):
        self.suite = suite

    def private(self, raw):
        if self.suite == 2:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        return X25519PrivateKey.from_private_bytes(raw)

    def public_bytes(self, key):
        if self.suite == 2:
            return key.public_key().public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
        return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def dh(self, key, public_bytes):
        if self.suite == 2:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_bytes)
            return key.exchange(ec.ECDH(), peer)
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
        return key.exchange(X25519PublicKey.from_public_bytes(public_bytes))


def x3dh(suite, dhs, ss, peer_a, peer_b):
    ikm = b"\xff" * 32 + b"".join(dhs) + (ss or b"")
    out = hkdf(ikm, b"\x00" * 32, b"x3dh/v1" + bytes([suite]) + peer_a + peer_b, 96)
    return out[:32], out[32:64], out[64:]


def kdf_rk(suite, rk, dh):
    out = hkdf(dh, rk, b"rk/v1" + bytes([suite]), 96)
    return out[:32], out[32:64], out[64:]


def kdf_ck(ck):
    return hmac.new(ck, b"\x02", hashlib.sha256).digest(), hmac.new(ck, b"\x01", hashlib.sha256).digest()


def encrypt(suite, dh_pub, pn, n, hk, mk, plaintext, ad, hdr_nonce, body_nonce):
    header = dh_pub + struct.pack(">II", pn, n)
    header_ad = bytes([suite]) + ad
    enc_header = AESGCM(hk).encrypt(hdr_nonce, header, header_ad)
    key = hkdf(mk, b"", b"msg/v1" + bytes([suite]), 32)
    body = AESGCM(key).encrypt(body_nonce, plaintext, header_ad + hdr_nonce + enc_header)
    return hdr_nonce + enc_header + body_nonce + body


def fixed(label, length=32):
    """Deterministic test bytes: SHA-256 of a label (a valid scalar on both curves)."""
    return hashlib.sha256(label.encode()).digest()[:length]


def vector(suite):
    c = Curve(suite)
    keys = {name: fixed(f"suite{suite}/{name}") for name in
            ["alice_ik", "alice_ek", "bob_ik", "bob_spk", "bob_opk", "alice_ratchet0", "bob_ratchet1", "alice_ratchet1"]}
    priv = {k: c.private(v) for k, v in keys.items()}
    pub = {k: c.public_bytes(v) for k, v in priv.items()}
    peer_a = bytes.fromhex("0024080112") + fixed("peer-a")
    peer_b = bytes.fromhex("0024080112") + fixed("peer-b")
    ss = fixed("kem-ss") if suite == 3 else None
    dh1 = c.dh(priv["alice_ik"], pub["bob_spk"])
    dh2 = c.dh(priv["alice_ek"], pub["bob_ik"])
    dh3 = c.dh(priv["alice_ek"], pub["bob_spk"])
    dh4 = c.dh(priv["alice_ek"], pub["bob_opk"])
    sk, hka, nhkb = x3dh(suite, [dh1, dh2, dh3, dh4], ss, peer_a, peer_b)
    ad = peer_a + pub["alice_ik"] + peer_b + pub["bob_ik"]

    # Alice: RatchetInitAliceHE, two messages.
    rk, cks, nhks = kdf_rk(suite, sk, c.dh(priv["alice_ratchet0"], pub["bob_spk"]))
    messages = []
    nonces = [fixed(f"nonce{i}", 12) for i in range(6)]
    for n, text in enumerate([b"first message", b"second message"]):
        cks, mk = kdf_ck(cks)
        wire = encrypt(suite, pub["alice_ratchet0"], 0, n, hka, mk, text, ad, nonces[2 * n], nonces[2 * n + 1])
        messages.append({"sender": "alice", "plaintext": text.hex(), "header_nonce": nonces[2 * n].hex(),
                         "body_nonce": nonces[2 * n + 1].hex(), "wire": wire.hex()})
    # Bob: RatchetInitBobHE, receives (DH ratchet step), replies with bob_ratchet1.
    b_rk = sk
    b_hks, b_hkr = nhkb, hka
    b_rk, ckr, b_nhkr = kdf_rk(suite, b_rk, c.dh(priv["bob_spk"], pub["alice_ratchet0"]))
    b_rk, b_cks, b_nhks = kdf_rk(suite, b_rk, c.dh(priv["bob_ratchet1"], pub["alice_ratchet0"]))
    b_cks, mk = kdf_ck(b_cks)
    reply = b"reply from bob"
    wire = encrypt(suite, pub["bob_ratchet1"], 0, 0, b_hks, mk, reply, ad, nonces[4], nonces[5])
    messages.append({"sender": "bob", "plaintext": reply.hex(), "header_nonce": nonces[4].hex(),
                     "body_nonce": nonces[5].hex(), "wire": wire.hex()})
    return {
        "suite": suite,
        "private_keys": {k: v.hex() for k, v in keys.items()},
        "public_keys": {k: v.hex() for k, v in pub.items()},
        "peer_a": peer_a.hex(), "peer_b": peer_b.hex(),
        "kem_shared_secret": ss.hex() if ss else None,
        "x3dh": {"dh": [d.hex() for d in [dh1, dh2, dh3, dh4]], "sk": sk.hex(), "hka": hka.hex(), "nhkb": nhkb.hex()},
        "associated_data": ad.hex(),
        "alice_root_after_init": rk.hex(), "alice_nhks_after_init": nhks.hex(),
        "messages": messages,
    }


if __name__ == "__main__":
    out = {"source": "Tests/ChatCryptoTests/Vectors/generate_vectors.py (pyca/cryptography)",
           "vectors": [vector(1), vector(2), vector(3)]}
    with open("ratchet_vectors.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
