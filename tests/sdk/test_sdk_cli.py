"""``strongroom encrypt`` / ``decrypt`` end to end, including the official SDK as the peer."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from tests.sdk import sdk_peer as peer

from strongroom import sdk
from strongroom.cli.main import cli


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_raw_aes_round_trip_and_official_interop(tmp_path: Path) -> None:
    key = os.urandom(32)
    (tmp_path / "key").write_bytes(key)
    plain = tmp_path / "data.txt"
    plain.write_bytes(b"top secret\n" * 1000)
    wk = f"raw-aes:my-ns:my-key:{tmp_path / 'key'}"
    code, out = _run(
        "encrypt",
        "-i",
        str(plain),
        "-o",
        str(tmp_path / "data.enc"),
        "-w",
        wk,
        "-c",
        "app=cli",
        "--algorithm",
        "AES_256_GCM_HKDF_SHA512_COMMIT_KEY",
        "--metadata-output",
        str(tmp_path / "meta.jsonl"),
    )
    assert code == 0, out
    message = (tmp_path / "data.enc").read_bytes()
    assert (
        peer.client().decrypt(
            source=message, key_provider=peer.aes_provider("my-ns", "my-key", key)
        )[0]
        == plain.read_bytes()
    )
    meta = json.loads((tmp_path / "meta.jsonl").read_text())
    assert meta["header"]["algorithm_id"] == "0x0478" and meta["header"]["encryption_context"] == {
        "app": "cli"
    }
    code, out = _run(
        "decrypt",
        "-i",
        str(tmp_path / "data.enc"),
        "-o",
        str(tmp_path / "back.txt"),
        "-w",
        wk,
        "-c",
        "app=cli",
    )
    assert code == 0, out
    assert (tmp_path / "back.txt").read_bytes() == plain.read_bytes()


def test_context_mismatch_fails_and_leaves_no_output(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(bytes(32))
    wk = f"raw-aes:ns:k:{tmp_path / 'key'}"
    (tmp_path / "p").write_bytes(b"x")
    assert (
        _run(
            "encrypt", "-i", str(tmp_path / "p"), "-o", str(tmp_path / "c"), "-w", wk, "-c", "a=1"
        )[0]
        == 0
    )
    code, out = _run(
        "decrypt", "-i", str(tmp_path / "c"), "-o", str(tmp_path / "out"), "-w", wk, "-c", "a=2"
    )
    assert code == 1 and "EncryptionContextError" in out
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".partial")] == []


def test_raw_rsa_encode_decode_and_directory(tmp_path: Path) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "pub.pem").write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "priv.pem").write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    src, enc, dec = tmp_path / "src", tmp_path / "enc", tmp_path / "dec"
    for d in (src, enc, dec):
        d.mkdir()
    (src / "a.txt").write_bytes(b"alpha")
    (src / "sub").mkdir()
    (src / "sub" / "b.txt").write_bytes(b"beta")
    code, out = _run(
        "encrypt",
        "-r",
        "-i",
        str(src),
        "-o",
        str(enc),
        "--encode",
        "--frame-length",
        "0",
        "-w",
        f"raw-rsa:ns:rsa-key:{tmp_path / 'pub.pem'}:oaep-sha1",
    )
    assert code == 0, out
    encoded = (enc / "sub" / "b.txt.encrypted").read_bytes()
    message = base64.b64decode(encoded)
    assert (
        sdk.decrypt(
            message,
            keyring=sdk.RawRsaKeyring(
                "ns", "rsa-key", sdk.RsaPadding.OAEP_SHA1, private_key=private
            ),
        )[0]
        == b"beta"
    )
    code, out = _run(
        "decrypt",
        "-r",
        "-i",
        str(enc),
        "-o",
        str(dec),
        "--decode",
        "--suffix",
        "",
        "-w",
        f"raw-rsa:ns:rsa-key:{tmp_path / 'priv.pem'}:oaep-sha1",
    )
    assert code == 0, out
    assert (dec / "a.txt.encrypted").read_bytes() == b"alpha"
    assert (dec / "sub" / "b.txt.encrypted").read_bytes() == b"beta"
    code, _ = _run(
        "decrypt",
        "-r",
        "-i",
        str(enc),
        "-o",
        str(dec),
        "--decode",
        "--suffix",
        "",
        "--no-overwrite",
        "-w",
        f"raw-rsa:ns:rsa-key:{tmp_path / 'priv.pem'}:oaep-sha1",
    )
    assert code == 1


def test_tampered_message_exit_code(tmp_path: Path) -> None:
    (tmp_path / "key").write_bytes(bytes(32))
    wk = f"raw-aes:ns:k:{tmp_path / 'key'}"
    message, _ = sdk.encrypt(b"hello", keyring=sdk.RawAesKeyring("ns", "k", bytes(32)))
    broken = bytearray(message)
    broken[len(broken) // 2] ^= 1
    (tmp_path / "c").write_bytes(bytes(broken))
    code, _ = _run("decrypt", "-i", str(tmp_path / "c"), "-o", str(tmp_path / "o"), "-w", wk)
    assert code == 1 and not (tmp_path / "o").exists()
    code, _ = _run("decrypt", "-i", str(tmp_path / "c"), "-w", wk, "--commitment-policy", "bogus")
    assert code == 2
