"""The key-spec table against the botocore model and AWS's documented combinations."""

from __future__ import annotations

from typing import Any

import botocore.loaders
import pytest

from strongroom.crypto.kms import (
    DATA_KEY_PAIR_SPECS,
    KEY_SPECS,
    KmsCryptoError,
    KmsValidationError,
    UnsupportedAlgorithm,
    algorithms_for,
    as_service_error,
    validate_spec_usage,
)
from strongroom.crypto.kms.import_wrap import WRAPPING_ALGORITHMS, WRAPPING_KEY_SPECS
from strongroom.crypto.kms.signing import SIGNING_ALGORITHMS


@pytest.fixture(scope="module")
def shapes() -> dict[str, Any]:
    model = botocore.loaders.Loader().load_service_model("kms", "service-2")
    return dict(model["shapes"])


def enum(shapes: dict[str, Any], name: str) -> list[str]:
    return list(shapes[name]["enum"])


def test_every_model_key_spec_is_described(shapes: dict[str, Any]) -> None:
    assert sorted(KEY_SPECS) == sorted(enum(shapes, "KeySpec"))


def test_algorithms_come_from_the_model_enums(shapes: dict[str, Any]) -> None:
    fields = {
        "encryption_algorithms": "EncryptionAlgorithmSpec",
        "signing_algorithms": "SigningAlgorithmSpec",
        "mac_algorithms": "MacAlgorithmSpec",
        "key_agreement_algorithms": "KeyAgreementAlgorithmSpec",
        "encapsulation_algorithms": "EncapsulationAlgorithmSpec",
    }
    for attribute, shape in fields.items():
        used = {alg for info in KEY_SPECS.values() for alg in getattr(info, attribute)}
        # Every value is real, and every real value belongs to some spec.
        assert used == set(enum(shapes, shape)), attribute
    assert set(SIGNING_ALGORITHMS) == set(enum(shapes, "SigningAlgorithmSpec"))
    for info in KEY_SPECS.values():
        assert set(info.key_usages) <= set(enum(shapes, "KeyUsageType"))


def test_other_enums_match_the_model(shapes: dict[str, Any]) -> None:
    assert list(DATA_KEY_PAIR_SPECS) == enum(shapes, "DataKeyPairSpec")
    assert list(WRAPPING_KEY_SPECS) == enum(shapes, "WrappingKeySpec")
    assert list(WRAPPING_ALGORITHMS) == enum(shapes, "AlgorithmSpec")


@pytest.mark.parametrize(
    ("key_spec", "key_usage", "expected"),
    [
        ("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", {"EncryptionAlgorithms": ["SYMMETRIC_DEFAULT"]}),
        (
            "RSA_2048",
            "ENCRYPT_DECRYPT",
            {"EncryptionAlgorithms": ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]},
        ),
        (
            "RSA_4096",
            "SIGN_VERIFY",
            {
                "SigningAlgorithms": [
                    "RSASSA_PKCS1_V1_5_SHA_256",
                    "RSASSA_PKCS1_V1_5_SHA_384",
                    "RSASSA_PKCS1_V1_5_SHA_512",
                    "RSASSA_PSS_SHA_256",
                    "RSASSA_PSS_SHA_384",
                    "RSASSA_PSS_SHA_512",
                ]
            },
        ),
        ("ECC_NIST_P256", "SIGN_VERIFY", {"SigningAlgorithms": ["ECDSA_SHA_256"]}),
        ("ECC_NIST_P384", "SIGN_VERIFY", {"SigningAlgorithms": ["ECDSA_SHA_384"]}),
        ("ECC_NIST_P521", "SIGN_VERIFY", {"SigningAlgorithms": ["ECDSA_SHA_512"]}),
        ("ECC_NIST_P521", "KEY_AGREEMENT", {"KeyAgreementAlgorithms": ["ECDH"]}),
        ("ECC_SECG_P256K1", "SIGN_VERIFY", {"SigningAlgorithms": ["ECDSA_SHA_256"]}),
        (
            "ECC_NIST_EDWARDS25519",
            "SIGN_VERIFY",
            {"SigningAlgorithms": ["ED25519_SHA_512", "ED25519_PH_SHA_512"]},
        ),
        ("HMAC_224", "GENERATE_VERIFY_MAC", {"MacAlgorithms": ["HMAC_SHA_224"]}),
        ("HMAC_512", "GENERATE_VERIFY_MAC", {"MacAlgorithms": ["HMAC_SHA_512"]}),
        ("ML_DSA_65", "SIGN_VERIFY", {"SigningAlgorithms": ["ML_DSA_SHAKE_256"]}),
        ("ML_KEM_768", "ENCAPSULATE_DECAPSULATE", {"EncapsulationAlgorithms": ["ML_KEM"]}),
        ("SM2", "SIGN_VERIFY", {"SigningAlgorithms": ["SM2DSA"]}),
    ],
)
def test_algorithms_for_reports_what_describe_key_does(
    key_spec: str, key_usage: str, expected: dict[str, list[str]]
) -> None:
    assert algorithms_for(key_spec, key_usage) == expected


VALID = [(spec, usage) for spec, info in KEY_SPECS.items() for usage in info.key_usages]


@pytest.mark.parametrize(("key_spec", "key_usage"), VALID)
def test_valid_combinations(key_spec: str, key_usage: str) -> None:
    if KEY_SPECS[key_spec].supported:
        validate_spec_usage(key_spec, key_usage)
    else:
        with pytest.raises(UnsupportedAlgorithm):
            validate_spec_usage(key_spec, key_usage)


@pytest.mark.parametrize(
    ("key_spec", "key_usage"),
    [
        ("SYMMETRIC_DEFAULT", "SIGN_VERIFY"),
        ("RSA_2048", "KEY_AGREEMENT"),
        ("RSA_3072", "GENERATE_VERIFY_MAC"),
        ("ECC_NIST_P256", "ENCRYPT_DECRYPT"),
        ("ECC_SECG_P256K1", "KEY_AGREEMENT"),
        ("ECC_NIST_EDWARDS25519", "KEY_AGREEMENT"),
        ("HMAC_256", "ENCRYPT_DECRYPT"),
        ("HMAC_256", "SIGN_VERIFY"),
        ("ML_DSA_44", "ENCRYPT_DECRYPT"),
        ("ML_KEM_1024", "KEY_AGREEMENT"),
        ("RSA_1024", "SIGN_VERIFY"),
        ("RSA_2048", "ENCRYPT"),
    ],
)
def test_invalid_combinations_are_validation_errors(key_spec: str, key_usage: str) -> None:
    with pytest.raises(ValueError) as caught:
        validate_spec_usage(key_spec, key_usage)
    assert isinstance(caught.value, KmsValidationError)
    assert caught.value.aws_code == "ValidationException"
    with pytest.raises(KmsValidationError):
        algorithms_for(key_spec, key_usage)


def test_unsupported_specs_say_why() -> None:
    unsupported = {name: info for name, info in KEY_SPECS.items() if not info.supported}
    assert set(unsupported) == {"SM2", "ML_KEM_512"}
    for info in unsupported.values():
        assert info.unsupported_reason
    with pytest.raises(UnsupportedAlgorithm, match="SM2") as caught:
        validate_spec_usage("SM2", "ENCRYPT_DECRYPT")
    assert caught.value.aws_code == "UnsupportedOperationException"


def test_asymmetric_flag() -> None:
    assert not KEY_SPECS["SYMMETRIC_DEFAULT"].asymmetric
    assert not KEY_SPECS["HMAC_384"].asymmetric
    assert KEY_SPECS["RSA_2048"].asymmetric
    assert KEY_SPECS["ML_DSA_87"].asymmetric


def test_errors_become_service_errors() -> None:
    try:
        validate_spec_usage("ECC_NIST_P256", "ENCRYPT_DECRYPT")
    except KmsCryptoError as exc:
        error = as_service_error(exc)
    assert (error.code, error.status) == ("ValidationException", 400)
    assert "ECC_NIST_P256" in error.message
