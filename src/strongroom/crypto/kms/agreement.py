"""DeriveSharedSecret: ECDH between a KMS key and a peer's public key.

KMS offers KEY_AGREEMENT on the NIST curves (ECC_NIST_P256/P384/P521; SM2 in
China Regions, unsupported here), never on secp256k1 or Ed25519. The peer key
must be a DER SubjectPublicKeyInfo on the same curve. The result is the raw
ECDH shared secret, the x-coordinate of the shared point as a big-endian
field element (32, 48 or 66 bytes), exactly what KMS returns: no KDF is
applied, the caller runs its own.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from strongroom.crypto.kms.errors import InvalidKeyUsage, KmsValidationError
from strongroom.crypto.kms.keys import load_private
from strongroom.crypto.kms.specs import KEY_AGREEMENT, require_supported, spec_info

__all__ = ["KEY_AGREEMENT_ALGORITHMS", "derive_shared_secret"]

KEY_AGREEMENT_ALGORITHMS = ("ECDH",)


def derive_shared_secret(
    key_spec: str, material: bytes, peer_public_key_der: bytes, algorithm: str = "ECDH"
) -> bytes:
    """The ECDH shared secret of the key's private half and the peer's public key."""
    info = spec_info(key_spec)
    if algorithm not in KEY_AGREEMENT_ALGORITHMS:
        raise KmsValidationError(
            f"1 validation error detected: Value '{algorithm}' at 'keyAgreementAlgorithm' failed "
            f"to satisfy constraint: Member must satisfy enum value set: [{', '.join(KEY_AGREEMENT_ALGORITHMS)}]"
        )
    if KEY_AGREEMENT not in info.key_usages:
        raise InvalidKeyUsage(f"KeySpec {key_spec} does not support key agreement.")
    require_supported(key_spec)
    private_key = load_private(key_spec, material)
    assert isinstance(private_key, ec.EllipticCurvePrivateKey)
    try:
        peer = serialization.load_der_public_key(peer_public_key_der)
    except (ValueError, TypeError):
        raise KmsValidationError(
            "PublicKey must be a DER-encoded X.509 SubjectPublicKeyInfo (RFC 5280)."
        ) from None
    if not isinstance(peer, ec.EllipticCurvePublicKey) or peer.curve.name != private_key.curve.name:
        raise KmsValidationError(
            f"PublicKey must be an elliptic curve key on the same curve as KeySpec {key_spec}."
        )
    return private_key.exchange(ec.ECDH(), peer)
