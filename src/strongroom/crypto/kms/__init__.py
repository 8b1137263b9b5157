"""The cryptography behind KMS's asymmetric, HMAC, key agreement and import features.

Pure functions over bytes: no storage, no requests, no clocks. The KMS
service stores key material (sealed by the barrier) and calls in here to
generate it, use it and validate imports; every client-caused failure is a
:class:`~strongroom.crypto.kms.errors.KmsCryptoError` carrying its AWS error
code. Symmetric (SYMMETRIC_DEFAULT) encryption is the service's own
ciphertext format and is not here. See docs/design/kms-crypto.md.
"""

from strongroom.crypto.kms.agreement import derive_shared_secret
from strongroom.crypto.kms.asymmetric import (
    decrypt,
    encrypt,
    generate_data_key_pair,
    generate_key_material,
    max_plaintext_length,
    public_key_der,
    sign,
    verify,
)
from strongroom.crypto.kms.errors import (
    IncorrectKeyMaterial,
    InvalidCiphertext,
    InvalidKeyUsage,
    KmsCryptoError,
    KmsValidationError,
    UnsupportedAlgorithm,
    as_service_error,
)
from strongroom.crypto.kms.hmac_keys import generate_mac, verify_mac
from strongroom.crypto.kms.import_wrap import (
    check_wrapping_parameters,
    new_wrapping_key,
    unwrap_key_material,
    validate_imported_material,
    wrap_key_material,
)
from strongroom.crypto.kms.kem import decapsulate, encapsulate
from strongroom.crypto.kms.keys import clear_cache
from strongroom.crypto.kms.specs import (
    DATA_KEY_PAIR_SPECS,
    KEY_SPECS,
    KeySpecInfo,
    algorithms_for,
    validate_spec_usage,
)

__all__ = [
    "DATA_KEY_PAIR_SPECS",
    "KEY_SPECS",
    "IncorrectKeyMaterial",
    "InvalidCiphertext",
    "InvalidKeyUsage",
    "KeySpecInfo",
    "KmsCryptoError",
    "KmsValidationError",
    "UnsupportedAlgorithm",
    "algorithms_for",
    "as_service_error",
    "check_wrapping_parameters",
    "clear_cache",
    "decapsulate",
    "decrypt",
    "derive_shared_secret",
    "encapsulate",
    "encrypt",
    "generate_data_key_pair",
    "generate_key_material",
    "generate_mac",
    "max_plaintext_length",
    "new_wrapping_key",
    "public_key_der",
    "sign",
    "unwrap_key_material",
    "validate_imported_material",
    "validate_spec_usage",
    "verify",
    "verify_mac",
    "wrap_key_material",
]
