"""GetParametersForImport/ImportKeyMaterial: wrapping, unwrapping, material checks.

Wrapped material is produced the way a client does it: with the OpenSSL
commands of the KMS developer guide ("Step 3: Encrypt the key material") when
the ``openssl`` CLI is present, and with an independent ``cryptography``
implementation of the same construction in every case.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from strongroom.crypto.kms import (
    IncorrectKeyMaterial,
    InvalidCiphertext,
    KmsValidationError,
    UnsupportedAlgorithm,
    check_wrapping_parameters,
    new_wrapping_key,
    unwrap_key_material,
    validate_imported_material,
    wrap_key_material,
)

Material = Callable[[str], bytes]
WrappingKey = Callable[[str], tuple[bytes, bytes]]
ALGORITHMS = [
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
]
WRAPPING_SPECS = ["RSA_2048", "RSA_3072", "RSA_4096"]
OPENSSL = shutil.which("openssl")


def client_wrap(public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """The client's wrapping, written from the documented construction."""
    public: Any = serialization.load_der_public_key(public_der)
    hash_type = hashes.SHA256 if algorithm.endswith("SHA_256") else hashes.SHA1
    oaep = padding.OAEP(mgf=padding.MGF1(hash_type()), algorithm=hash_type(), label=None)
    if algorithm.startswith("RSAES_OAEP"):
        return bytes(public.encrypt(material, oaep))
    aes_key = os.urandom(32)
    return bytes(public.encrypt(aes_key, oaep)) + keywrap.aes_key_wrap_with_padding(
        aes_key, material
    )


def openssl_wrap(tmp: Path, public_der: bytes, algorithm: str, material: bytes) -> bytes:
    """AWS's OpenSSL recipe, step by step (``cat`` done in Python)."""
    assert OPENSSL is not None
    md = "sha256" if algorithm.endswith("SHA_256") else "sha1"
    (tmp / "WrappingPublicKey.bin").write_bytes(public_der)
    (tmp / "PlaintextKeyMaterial.bin").write_bytes(material)
    oaep = ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", f"rsa_oaep_md:{md}"]
    oaep += ["-pkeyopt", f"rsa_mgf1_md:{md}"]
    pkeyutl = [OPENSSL, "pkeyutl", "-encrypt", "-inkey", "WrappingPublicKey.bin"]
    pkeyutl += ["-keyform", "DER", "-pubin", *oaep]

    def run(*args: str) -> None:
        subprocess.run(args, cwd=tmp, check=True, capture_output=True, timeout=30)

    if algorithm.startswith("RSAES_OAEP"):
        run(*pkeyutl, "-in", "PlaintextKeyMaterial.bin", "-out", "EncryptedKeyMaterial.bin")
        return (tmp / "EncryptedKeyMaterial.bin").read_bytes()
    run(OPENSSL, "rand", "-out", "aes-key.bin", "32")
    aes_hex = (tmp / "aes-key.bin").read_bytes().hex()
    run(
        OPENSSL, "enc", "-id-aes256-wrap-pad", "-K", aes_hex, "-iv", "A65959A6",
        "-in", "PlaintextKeyMaterial.bin", "-out", "key-material-wrapped.bin",
    )  # fmt: skip
    run(*pkeyutl, "-in", "aes-key.bin", "-out", "aes-key-wrapped.bin")
    return (tmp / "aes-key-wrapped.bin").read_bytes() + (
        tmp / "key-material-wrapped.bin"
    ).read_bytes()


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl CLI")
@pytest.mark.parametrize("wrapping_spec", WRAPPING_SPECS)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_openssl_wrapped_material_unwraps(
    tmp_path: Path, wrapping_key: WrappingKey, wrapping_spec: str, algorithm: str
) -> None:
    private, public = wrapping_key(wrapping_spec)
    material = os.urandom(32)
    encrypted = openssl_wrap(tmp_path, public, algorithm, material)
    assert unwrap_key_material(private, algorithm, encrypted) == material


@pytest.mark.skipif(OPENSSL is None, reason="needs the openssl CLI")
def test_openssl_wrapped_rsa_private_key(
    tmp_path: Path, wrapping_key: WrappingKey, material: Material
) -> None:
    private, public = wrapping_key("RSA_3072")
    rsa_key = material("RSA_2048")
    encrypted = openssl_wrap(tmp_path, public, "RSA_AES_KEY_WRAP_SHA_256", rsa_key)
    unwrapped = unwrap_key_material(private, "RSA_AES_KEY_WRAP_SHA_256", encrypted)
    assert validate_imported_material("RSA_2048", unwrapped) == rsa_key


IMPORTABLE = [
    ("SYMMETRIC_DEFAULT", ALGORITHMS),
    ("HMAC_384", ALGORITHMS),
    ("ECC_NIST_P256", ALGORITHMS),
    ("ECC_NIST_P521", ALGORITHMS),
    ("ECC_SECG_P256K1", ALGORITHMS),
    ("ECC_NIST_EDWARDS25519", ALGORITHMS),
    ("ML_DSA_65", ALGORITHMS),
    ("ML_KEM_768", ALGORITHMS),
    ("RSA_2048", ALGORITHMS[2:]),
    ("RSA_4096", ALGORITHMS[3:]),
]
IMPORT_CASES = [(spec, alg) for spec, algs in IMPORTABLE for alg in algs]


@pytest.mark.parametrize(("key_spec", "algorithm"), IMPORT_CASES)
def test_import_round_trip(
    wrapping_key: WrappingKey, material: Material, key_spec: str, algorithm: str
) -> None:
    private, public = wrapping_key("RSA_3072")
    check_wrapping_parameters(key_spec, algorithm, "RSA_3072")
    original = material(key_spec)
    unwrapped = unwrap_key_material(private, algorithm, client_wrap(public, algorithm, original))
    assert unwrapped == original
    assert validate_imported_material(key_spec, unwrapped) == original
    ours = wrap_key_material(public, algorithm, original)
    assert unwrap_key_material(private, algorithm, ours) == original


def test_rfc5649_vectors_through_rsa_aes(
    vectors: Callable[[str], Any], wrapping_key: WrappingKey
) -> None:
    """The AES half is RFC 5649: the RFC's own outputs (192-bit KEK) unwrap."""
    private, public = wrapping_key("RSA_2048")
    rsa_public: Any = serialization.load_der_public_key(public)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    for case in vectors("rfc5649_aes_kwp.json")["cases"]:
        wrapped_kek = rsa_public.encrypt(bytes.fromhex(case["kek_hex"]), oaep)
        encrypted = wrapped_kek + bytes.fromhex(case["wrapped_hex"])
        key = unwrap_key_material(private, "RSA_AES_KEY_WRAP_SHA_256", encrypted)
        assert key.hex() == case["key_hex"]
    fixed = wrap_key_material(
        public,
        "RSA_AES_KEY_WRAP_SHA_256",
        bytes.fromhex(case["key_hex"]),
        aes_key=bytes.fromhex(case["kek_hex"]),
    )
    assert fixed[256:].hex() == case["wrapped_hex"]


@pytest.mark.parametrize("wrapping_spec", WRAPPING_SPECS)
def test_new_wrapping_keys(wrapping_key: WrappingKey, wrapping_spec: str) -> None:
    private, public = wrapping_key(wrapping_spec)
    key = serialization.load_der_private_key(private, None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == int(wrapping_spec[4:])
    assert serialization.load_der_public_key(public) == key.public_key()


def test_unwrap_failures_are_invalid_ciphertext(wrapping_key: WrappingKey) -> None:
    private, public = wrapping_key("RSA_2048")
    other_private, _ = wrapping_key("RSA_3072")
    material = os.urandom(32)
    kw = wrap_key_material(public, "RSA_AES_KEY_WRAP_SHA_256", material)
    direct = wrap_key_material(public, "RSAES_OAEP_SHA_256", material)
    flipped_tail = kw[:-1] + bytes([kw[-1] ^ 1])
    bad = [
        (private, "RSA_AES_KEY_WRAP_SHA_1", kw),  # other OAEP hash
        (private, "RSA_AES_KEY_WRAP_SHA_256", flipped_tail),  # AES-KWP integrity
        (private, "RSA_AES_KEY_WRAP_SHA_256", kw[:256]),  # no wrapped material
        (private, "RSA_AES_KEY_WRAP_SHA_256", kw[:200]),
        (private, "RSAES_OAEP_SHA_1", direct),
        (private, "RSAES_OAEP_SHA_256", direct[:-1]),
        (private, "RSAES_OAEP_SHA_256", kw),  # the other construction
        (other_private, "RSAES_OAEP_SHA_256", direct),
        (private, "RSAES_OAEP_SHA_256", b""),
    ]
    for key, algorithm, blob in bad:
        with pytest.raises(InvalidCiphertext) as caught:
            unwrap_key_material(key, algorithm, blob)
        assert caught.value.aws_code == "InvalidCiphertextException"
    # An RSA-wrapped AES key of an invalid AES size is refused too.
    rsa_public: Any = serialization.load_der_public_key(public)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    odd = rsa_public.encrypt(os.urandom(20), oaep) + keywrap.aes_key_wrap_with_padding(
        os.urandom(16), material
    )
    with pytest.raises(InvalidCiphertext):
        unwrap_key_material(private, "RSA_AES_KEY_WRAP_SHA_256", odd)


def test_deprecated_and_unknown_wrapping(wrapping_key: WrappingKey) -> None:
    private, public = wrapping_key("RSA_2048")
    with pytest.raises(UnsupportedAlgorithm, match="10 October 2023"):
        unwrap_key_material(private, "RSAES_PKCS1_V1_5", b"\x00" * 256)
    with pytest.raises(UnsupportedAlgorithm):
        wrap_key_material(public, "SM2PKE", b"k" * 32)
    with pytest.raises(KmsValidationError, match="wrappingAlgorithm"):
        unwrap_key_material(private, "RSA_OAEP", b"\x00" * 256)
    with pytest.raises(UnsupportedAlgorithm):
        new_wrapping_key("SM2")
    with pytest.raises(KmsValidationError, match="wrappingKeySpec"):
        new_wrapping_key("RSA_1024")


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "wrapping_spec", "error"),
    [
        ("RSA_2048", "RSAES_OAEP_SHA_256", "RSA_4096", KmsValidationError),
        ("RSA_4096", "RSAES_OAEP_SHA_1", "RSA_4096", KmsValidationError),
        ("ECC_NIST_P521", "RSAES_OAEP_SHA_256", "RSA_2048", KmsValidationError),
        ("ECC_NIST_P521", "RSAES_OAEP_SHA_1", "RSA_2048", KmsValidationError),
        ("SYMMETRIC_DEFAULT", "RSAES_PKCS1_V1_5", "RSA_2048", UnsupportedAlgorithm),
        ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256", "SM2", UnsupportedAlgorithm),
        ("SM2", "RSAES_OAEP_SHA_256", "RSA_2048", UnsupportedAlgorithm),
    ],
)
def test_wrapping_parameter_refusals(
    key_spec: str, algorithm: str, wrapping_spec: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_wrapping_parameters(key_spec, algorithm, wrapping_spec)


@pytest.mark.parametrize(
    ("key_spec", "algorithm", "wrapping_spec"),
    [
        ("ECC_NIST_P521", "RSAES_OAEP_SHA_256", "RSA_3072"),
        ("ECC_NIST_P521", "RSA_AES_KEY_WRAP_SHA_1", "RSA_2048"),
        ("RSA_4096", "RSA_AES_KEY_WRAP_SHA_256", "RSA_2048"),
        ("HMAC_224", "RSAES_OAEP_SHA_1", "RSA_2048"),
    ],
)
def test_wrapping_parameters_accepted(key_spec: str, algorithm: str, wrapping_spec: str) -> None:
    check_wrapping_parameters(key_spec, algorithm, wrapping_spec)


def test_symmetric_material_must_be_32_bytes() -> None:
    assert validate_imported_material("SYMMETRIC_DEFAULT", b"\x01" * 32) == b"\x01" * 32
    for length in (0, 16, 31, 33, 64):
        with pytest.raises(IncorrectKeyMaterial) as caught:
            validate_imported_material("SYMMETRIC_DEFAULT", b"\x01" * length)
        assert caught.value.aws_code == "IncorrectKeyMaterialException"


@pytest.mark.parametrize(
    ("key_spec", "low", "high"),
    [("HMAC_224", 28, 64), ("HMAC_256", 32, 64), ("HMAC_384", 48, 128), ("HMAC_512", 64, 128)],
)
def test_hmac_material_lengths(key_spec: str, low: int, high: int) -> None:
    for length in (low, high):
        assert validate_imported_material(key_spec, b"\x02" * length) == b"\x02" * length
    for length in (low - 1, high + 1):
        with pytest.raises(IncorrectKeyMaterial):
            validate_imported_material(key_spec, b"\x02" * length)


def test_asymmetric_material_must_be_pkcs8_of_the_spec(material: Material) -> None:
    p256 = ec.generate_private_key(ec.SECP256R1())
    rsa_key = serialization.load_der_private_key(
        material("RSA_2048"), None, unsafe_skip_rsa_key_validation=True
    )
    assert isinstance(rsa_key, rsa.RSAPrivateKey)
    der = serialization.Encoding.DER
    none = serialization.NoEncryption()
    pkcs8 = p256.private_bytes(der, serialization.PrivateFormat.PKCS8, none)
    assert validate_imported_material("ECC_NIST_P256", pkcs8) == pkcs8
    refused = [
        ("ECC_NIST_P256", p256.private_bytes(der, serialization.PrivateFormat.TraditionalOpenSSL, none)),
        ("RSA_2048", rsa_key.private_bytes(der, serialization.PrivateFormat.TraditionalOpenSSL, none)),
        (
            "ECC_NIST_P256",
            p256.private_bytes(
                der,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"passphrase"),
            ),
        ),
        ("ECC_NIST_P384", pkcs8),
        ("ECC_SECG_P256K1", pkcs8),
        ("RSA_3072", material("RSA_2048")),
        ("ECC_NIST_P256", material("RSA_2048")),
        ("ML_DSA_44", material("ML_DSA_65")),
        ("ECC_NIST_EDWARDS25519", material("ECC_NIST_P256")),
        ("ECC_NIST_P256", pkcs8 + b"\x00"),
        ("ECC_NIST_P256", pkcs8[:-1]),
        ("ECC_NIST_P256", b"\x30\x03\x02\x01\x00"),
        ("RSA_2048", b""),
        ("ML_KEM_768", os.urandom(86)),
        ("ECC_NIST_P256", p256.public_key().public_bytes(der, serialization.PublicFormat.SubjectPublicKeyInfo)),
    ]  # fmt: skip
    for key_spec, blob in refused:
        with pytest.raises(IncorrectKeyMaterial) as caught:
            validate_imported_material(key_spec, blob)
        assert caught.value.aws_code == "IncorrectKeyMaterialException"
        assert isinstance(caught.value, ValueError)


def test_asymmetric_material_is_normalized(material: Material) -> None:
    """Equivalent PKCS#8 encodings come back as one canonical encoding."""
    p256 = ec.generate_private_key(ec.SECP256R1())
    scalar = p256.private_numbers().private_value.to_bytes(32, "big")
    # PKCS#8 whose ECPrivateKey omits the optional public key (RFC 5915 allows it).
    ec_private_key = bytes.fromhex("30250201010420") + scalar
    algorithm = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
    body = bytes.fromhex("020100") + algorithm + bytes([0x04, len(ec_private_key)]) + ec_private_key
    minimal = bytes([0x30, len(body)]) + body
    canonical = p256.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert minimal != canonical
    assert validate_imported_material("ECC_NIST_P256", minimal) == canonical
    for key_spec in (
        "ECC_NIST_P384",
        "ECC_NIST_EDWARDS25519",
        "ML_DSA_87",
        "ML_KEM_1024",
        "RSA_3072",
    ):
        stored = material(key_spec)
        assert validate_imported_material(key_spec, stored) == stored


def test_unsupported_spec_import() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        validate_imported_material("SM2", b"\x30\x00")
    with pytest.raises(UnsupportedAlgorithm):
        validate_imported_material("ML_KEM_512", b"\x30\x00")
