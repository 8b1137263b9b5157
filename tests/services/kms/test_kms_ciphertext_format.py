"""The symmetric ciphertext blob (crypto/kms_ciphertext.py; docs/design/ciphertext.md)."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.crypto.kms_ciphertext import (
    HEADER_LEN,
    LABEL,
    OVERHEAD,
    BackingKey,
    InvalidCiphertext,
    encode_context,
    new_key_material,
    new_material_id,
    parse_header,
)

ACCOUNT = "000123456789"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MRK_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"


def test_layout_matches_the_spec() -> None:
    material = new_key_material()
    material_id = new_material_id()
    blob = BackingKey(ACCOUNT, KEY_ID, material_id, material).encrypt(
        b"hello", encode_context(None)
    )
    assert len(blob) == OVERHEAD + 5 and HEADER_LEN == 83
    assert blob[0] == 1 and blob[1] == 1
    assert int.from_bytes(blob[2:7], "big") == int(ACCOUNT)
    assert blob[7:23] == bytes.fromhex(KEY_ID.replace("-", ""))
    assert blob[23:55].hex() == material_id
    # Decrypt independently, from the spec alone.
    salt, nonce = blob[55:71], blob[71:83]
    h = hmac.HMAC(material, hashes.SHA256())
    h.update(LABEL + salt + b"\x01")
    aad = blob[:83] + b"\x00\x00"
    assert AESGCM(h.finalize()).decrypt(nonce, blob[83:], aad) == b"hello"


def test_header_round_trip_for_both_key_id_kinds() -> None:
    for key_id, kind in ((KEY_ID, 1), (MRK_ID, 2)):
        backing = BackingKey(ACCOUNT, key_id, new_material_id(), new_key_material())
        blob = backing.encrypt(b"x", encode_context({"a": "b"}))
        assert blob[1] == kind
        header = parse_header(blob)
        assert (header.account, header.key_id, header.material_id) == (
            ACCOUNT,
            key_id,
            backing.material_id,
        )


def test_context_encoding_is_canonical() -> None:
    assert encode_context({"b": "2", "a": "1"}) == encode_context({"a": "1", "b": "2"})
    assert encode_context({"a": "1"}) == b"\x00\x01\x00\x01a\x00\x011"
    assert encode_context({}) == encode_context(None) == b"\x00\x00"
    # Length prefixes keep ("ab","c") and ("a","bc") apart.
    assert encode_context({"ab": "c"}) != encode_context({"a": "bc"})
    assert encode_context({"é": "ü"}) == b"\x00\x01\x00\x02\xc3\xa9\x00\x02\xc3\xbc"


def test_tampering_and_wrong_keys_fail() -> None:
    material_id = new_material_id()
    backing = BackingKey(ACCOUNT, KEY_ID, material_id, new_key_material())
    context = encode_context({"k": "v"})
    blob = backing.encrypt(os.urandom(64), context)
    for i in range(len(blob)):
        flipped = bytearray(blob)
        flipped[i] ^= 0x04
        with pytest.raises(InvalidCiphertext):
            backing.decrypt(bytes(flipped), context)
    with pytest.raises(InvalidCiphertext):
        backing.decrypt(blob, encode_context({"k": "w"}))
    impostor = BackingKey(ACCOUNT, KEY_ID, material_id, new_key_material())
    with pytest.raises(InvalidCiphertext):
        impostor.decrypt(blob, context)
    for bad in (b"", b"\x02" + blob[1:], blob[: OVERHEAD - 1]):
        with pytest.raises(InvalidCiphertext):
            parse_header(bad)


def test_a_remembered_message_key_changes_no_outcome() -> None:
    # Decrypting a ciphertext keeps its message key for the next decrypt
    # of it: tampering with the rest must fail just the same afterwards.
    backing = BackingKey(ACCOUNT, KEY_ID, new_material_id(), new_key_material())
    context = encode_context({"k": "v"})
    plaintext = os.urandom(64)
    blob = backing.encrypt(plaintext, context)
    assert backing.decrypt(blob, context) == plaintext
    assert backing.decrypt(blob, context) == plaintext  # from the remembered key
    for i in [*range(HEADER_LEN - 12, HEADER_LEN), *range(HEADER_LEN, len(blob))]:
        flipped = bytearray(blob)  # nonce, ciphertext and tag: the salt is unchanged
        flipped[i] ^= 0x10
        with pytest.raises(InvalidCiphertext):
            backing.decrypt(bytes(flipped), context)
    with pytest.raises(InvalidCiphertext):
        backing.decrypt(blob, encode_context({"k": "w"}))
    # Bounded: many ciphertexts later it still decrypts them all.
    blobs = [backing.encrypt(n.to_bytes(2, "big"), context) for n in range(2500)]
    assert [backing.decrypt(b, context) for b in blobs] == [
        n.to_bytes(2, "big") for n in range(2500)
    ]
    assert len(backing._opened) <= 1024
    assert backing.decrypt(blob, context) == plaintext


def test_bad_construction_arguments() -> None:
    with pytest.raises(ValueError):
        BackingKey(ACCOUNT, KEY_ID, new_material_id(), b"short")
    with pytest.raises(ValueError):
        BackingKey("12", KEY_ID, new_material_id(), new_key_material())
    with pytest.raises(ValueError):
        BackingKey(ACCOUNT, KEY_ID.upper(), new_material_id(), new_key_material())
