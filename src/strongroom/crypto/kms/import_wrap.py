"""GetParametersForImport and ImportKeyMaterial: wrapping keys and unwrapping.

GetParametersForImport hands the client a fresh RSA public key (the
"wrapping key"); the client encrypts its key material under it with the
wrapping algorithm it chose, and ImportKeyMaterial brings it back:

* RSAES_OAEP_SHA_1 / RSAES_OAEP_SHA_256: the material itself, RSA-OAEP
  encrypted (same hash for OAEP and MGF1, empty label). Limited by the
  modulus, so not for RSA private keys, nor for ECC_NIST_P521 under RSA_2048.
* RSA_AES_KEY_WRAP_SHA_1 / RSA_AES_KEY_WRAP_SHA_256 (PKCS#11
  CKM_RSA_AES_KEY_WRAP): the client makes an ephemeral AES key, wraps the
  material with AES key wrap with padding (RFC 5649), encrypts the AES key
  with RSA-OAEP, and sends ``RSA-OAEP(aes key) || AES-KWP(material)``. The
  first part is exactly one modulus long. AWS's OpenSSL recipe: ``openssl
  rand -out aes-key.bin 32``; ``openssl enc -id-aes256-wrap-pad -K <hex>
  -iv A65959A6 -in material -out material-wrapped.bin``; ``openssl pkeyutl
  -encrypt ... -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256
  -pkeyopt rsa_mgf1_md:sha256 -in aes-key.bin -out aes-key-wrapped.bin``;
  ``cat aes-key-wrapped.bin material-wrapped.bin``.
* RSAES_PKCS1_V1_5: withdrawn by AWS on 10 October 2023; SM2PKE and the SM2
  wrapping key spec are China-Regions-only and unsupported here.

Imported material must be what the key spec expects: 32 bytes for
SYMMETRIC_DEFAULT, an in-range length for HMAC keys, a PKCS#8 DER private key
of the right type and size for asymmetric keys (the public key is derived
from it). :func:`validate_imported_material` returns it normalized (PKCS#8
re-encoded by ``cryptography``) so a re-import of the same key compares equal.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from strongroom.crypto.kms.errors import (
    IncorrectKeyMaterial,
    InvalidCiphertext,
    KmsValidationError,
    UnsupportedAlgorithm,
)
from strongroom.crypto.kms.hmac_keys import HMAC_IMPORT_BYTES
from strongroom.crypto.kms.keys import (
    RSA_BITS,
    generate_private_key,
    private_pkcs8,
    public_spki,
    spec_of_private_key,
)
from strongroom.crypto.kms.specs import require_supported

__all__ = [
    "WRAPPING_ALGORITHMS",
    "WRAPPING_KEY_SPECS",
    "check_wrapping_parameters",
    "new_wrapping_key",
    "unwrap_key_material",
    "validate_imported_material",
    "wrap_key_material",
]

# The model's WrappingKeySpec and AlgorithmSpec enums.
WRAPPING_KEY_SPECS = ("RSA_2048", "RSA_3072", "RSA_4096", "SM2")
WRAPPING_ALGORITHMS = (
    "RSAES_PKCS1_V1_5",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "RSA_AES_KEY_WRAP_SHA_1",
    "RSA_AES_KEY_WRAP_SHA_256",
    "SM2PKE",
)
_OAEP_HASH: dict[str, type[hashes.HashAlgorithm]] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
    "RSA_AES_KEY_WRAP_SHA_1": hashes.SHA1,
    "RSA_AES_KEY_WRAP_SHA_256": hashes.SHA256,
}
_AES_KEY_BYTES = (16, 24, 32)
_SYMMETRIC_KEY_BYTES = 32
_UNWRAP_FAILED = "KMS cannot decrypt the EncryptedKeyMaterial with the wrapping key and algorithm."


def _check_algorithm(wrapping_algorithm: str) -> type[hashes.HashAlgorithm]:
    if wrapping_algorithm not in WRAPPING_ALGORITHMS:
        raise KmsValidationError(
            f"1 validation error detected: Value '{wrapping_algorithm}' at 'wrappingAlgorithm' "
            f"failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(WRAPPING_ALGORITHMS)}]"
        )
    if wrapping_algorithm == "RSAES_PKCS1_V1_5":
        raise UnsupportedAlgorithm(
            "The RSAES_PKCS1_V1_5 wrapping algorithm is deprecated: AWS KMS stopped supporting "
            "it on 10 October 2023. Use RSA_AES_KEY_WRAP_SHA_256 or RSAES_OAEP_SHA_256."
        )
    if wrapping_algorithm == "SM2PKE":
        raise UnsupportedAlgorithm(
            "The SM2PKE wrapping algorithm (China Regions only) is not supported."
        )
    return _OAEP_HASH[wrapping_algorithm]


def _check_wrapping_key_spec(wrapping_key_spec: str) -> int:
    if wrapping_key_spec not in WRAPPING_KEY_SPECS:
        raise KmsValidationError(
            f"1 validation error detected: Value '{wrapping_key_spec}' at 'wrappingKeySpec' "
            f"failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(WRAPPING_KEY_SPECS)}]"
        )
    if wrapping_key_spec == "SM2":
        raise UnsupportedAlgorithm(
            "The SM2 wrapping key spec (China Regions only) is not supported."
        )
    return RSA_BITS[wrapping_key_spec]


def check_wrapping_parameters(
    key_spec: str, wrapping_algorithm: str, wrapping_key_spec: str
) -> None:
    """GetParametersForImport's checks of a (key, algorithm, wrapping key) choice."""
    require_supported(key_spec)
    _check_algorithm(wrapping_algorithm)
    _check_wrapping_key_spec(wrapping_key_spec)
    direct = wrapping_algorithm.startswith("RSAES_OAEP")
    if direct and key_spec in RSA_BITS:
        raise KmsValidationError(
            f"{wrapping_algorithm} cannot wrap RSA private key material: use "
            "RSA_AES_KEY_WRAP_SHA_1 or RSA_AES_KEY_WRAP_SHA_256."
        )
    if direct and key_spec == "ECC_NIST_P521" and wrapping_key_spec == "RSA_2048":
        raise KmsValidationError(
            "ECC_NIST_P521 key material cannot be wrapped with an RSA_2048 wrapping key and "
            f"{wrapping_algorithm}: use a larger wrapping key or an RSA_AES_KEY_WRAP algorithm."
        )


def new_wrapping_key(wrapping_key_spec: str) -> tuple[bytes, bytes]:
    """A fresh wrapping key pair: (PKCS#8 DER private, SPKI DER public)."""
    _check_wrapping_key_spec(wrapping_key_spec)
    key = generate_private_key(wrapping_key_spec)
    return private_pkcs8(key), public_spki(key.public_key())


def _oaep(hash_type: type[hashes.HashAlgorithm]) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hash_type()), algorithm=hash_type(), label=None)


def unwrap_key_material(
    wrapping_private_der: bytes, wrapping_algorithm: str, encrypted_key_material: bytes
) -> bytes:
    """The plaintext key material; :class:`InvalidCiphertext` if it does not unwrap."""
    hash_type = _check_algorithm(wrapping_algorithm)
    # The wrapping key is one we generated and kept sealed: the slow RSA
    # consistency check on load adds nothing.
    key = serialization.load_der_private_key(
        wrapping_private_der, password=None, unsafe_skip_rsa_key_validation=True
    )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise KmsValidationError("The wrapping key is not an RSA key.")
    modulus_bytes = key.key_size // 8
    try:
        if wrapping_algorithm.startswith("RSAES_OAEP"):
            if len(encrypted_key_material) != modulus_bytes:
                raise InvalidCiphertext(_UNWRAP_FAILED)
            return key.decrypt(encrypted_key_material, _oaep(hash_type))
        wrapped_aes, wrapped_material = (
            encrypted_key_material[:modulus_bytes],
            encrypted_key_material[modulus_bytes:],
        )
        if not wrapped_material:
            raise InvalidCiphertext(_UNWRAP_FAILED)
        aes_key = key.decrypt(wrapped_aes, _oaep(hash_type))
        if len(aes_key) not in _AES_KEY_BYTES:
            raise InvalidCiphertext(_UNWRAP_FAILED)
        return keywrap.aes_key_unwrap_with_padding(aes_key, wrapped_material)
    except (ValueError, keywrap.InvalidUnwrap):
        raise InvalidCiphertext(_UNWRAP_FAILED) from None


def wrap_key_material(
    wrapping_public_der: bytes,
    wrapping_algorithm: str,
    key_material: bytes,
    *,
    aes_key: bytes | None = None,
) -> bytes:
    """The client's side of the import (tests, seeding tools, the CLI).

    ``aes_key`` fixes the ephemeral AES key of the RSA_AES algorithms (a
    random 32-byte key otherwise), which makes outputs reproducible in tests.
    """
    hash_type = _check_algorithm(wrapping_algorithm)
    key = serialization.load_der_public_key(wrapping_public_der)
    if not isinstance(key, rsa.RSAPublicKey):
        raise KmsValidationError("The wrapping key is not an RSA key.")
    if wrapping_algorithm.startswith("RSAES_OAEP"):
        return key.encrypt(key_material, _oaep(hash_type))
    ephemeral = aes_key if aes_key is not None else os.urandom(32)
    wrapped = keywrap.aes_key_wrap_with_padding(ephemeral, key_material)
    return key.encrypt(ephemeral, _oaep(hash_type)) + wrapped


def _der_element(data: bytes, tag: int) -> tuple[bytes, bytes]:
    """(contents, rest) of the DER element of ``tag`` at the start of ``data``."""
    if len(data) < 2 or data[0] != tag:
        raise ValueError("unexpected DER tag")
    length, offset = data[1], 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 3 or len(data) < 2 + count:
            raise ValueError("bad DER length")
        length, offset = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    if len(data) < offset + length:
        raise ValueError("truncated DER")
    return data[offset : offset + length], data[offset + length :]


def _is_pkcs8(der: bytes) -> bool:
    """Whether ``der`` is shaped like a PKCS#8 PrivateKeyInfo (RFC 5208).

    ``cryptography`` also loads the "traditional" PKCS#1 RSA and SEC1 EC
    encodings; KMS accepts only PKCS#8, whose second field is the
    AlgorithmIdentifier SEQUENCE (PKCS#1 has an INTEGER there, SEC1 an OCTET
    STRING).
    """
    try:
        body, rest = _der_element(der, 0x30)
        _, after_version = _der_element(body, 0x02)
    except ValueError:
        return False
    return not rest and after_version[:1] == b"\x30"


def validate_imported_material(key_spec: str, material: bytes) -> bytes:
    """The normalized material if it fits ``key_spec``; IncorrectKeyMaterial otherwise."""
    info = require_supported(key_spec)
    if info.family == "SYMMETRIC":
        if len(material) != _SYMMETRIC_KEY_BYTES:
            raise IncorrectKeyMaterial(
                f"Key material for {key_spec} must be {_SYMMETRIC_KEY_BYTES} bytes (256 bits)."
            )
        return material
    if info.family == "HMAC":
        low, high = HMAC_IMPORT_BYTES[key_spec]
        if not low <= len(material) <= high:
            raise IncorrectKeyMaterial(
                f"Key material for {key_spec} must be between {low} and {high} bytes."
            )
        return material
    if not _is_pkcs8(material):
        raise IncorrectKeyMaterial(
            f"Key material for {key_spec} must be a DER-encoded PKCS#8 private key."
        )
    try:
        key = serialization.load_der_private_key(material, password=None)
    except (ValueError, TypeError):
        raise IncorrectKeyMaterial(
            f"Key material for {key_spec} is not a valid unencrypted PKCS#8 private key."
        ) from None
    actual = spec_of_private_key(key)
    if actual != key_spec:
        raise IncorrectKeyMaterial(
            f"The imported key material does not match KeySpec {key_spec}"
            + (f" (it is a {actual} key)." if actual else ".")
        )
    try:
        return private_pkcs8(key)
    except ValueError:
        # e.g. an ML-DSA/ML-KEM key given only in expanded form: without its
        # seed it cannot be stored in the seed form every other key uses.
        raise IncorrectKeyMaterial(
            f"Key material for {key_spec} must include the private key seed."
        ) from None
