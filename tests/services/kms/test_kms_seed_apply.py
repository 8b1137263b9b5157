"""Applying seed files to a KMS store: fixed ids, given material, rotation
history, idempotency, declarative updates, and refusals that change nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import textwrap

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from tests.services.kms.kms_support import KmsEnv, key_policy, root_statement
from tests.support.fake_platform import ACCOUNT

from strongroom.crypto.kms_ciphertext import BackingKey, encode_context
from strongroom.errors import ServiceError
from strongroom.services.kms.seed import SeedResult, apply_seed, seed_material_id
from strongroom.services.kms.seed_fields import SeedError
from strongroom.services.kms.seed_schema import parse_seed

KEY_ID = "bc436485-5092-42b8-92a3-0aa8b93536dc"
OTHER_ID = "11111111-2222-3333-4444-555555555555"
OLD = bytes.fromhex("5cdaead27fe7da2de47945d73cd6d79e36494e73802f3cd3869f1d2cb0b5d7a9")
NEW = bytes(range(32))
ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}"


def seed(kms: KmsEnv, text: str, source: str = "seed.yaml") -> SeedResult:
    parsed = parse_seed(
        textwrap.dedent(text), source, default_account=ACCOUNT, default_region="us-east-1"
    )
    return apply_seed(kms.kms.repo, parsed, kms.clock())


def snapshot(kms: KmsEnv) -> dict[str, bytes]:
    return {k: v for k, v in kms.store.scan("kms/")}


def two_backing_keys(extra: str = "") -> str:
    return f"""
        keys:
          - id: {KEY_ID}
            description: payments
            material:
              - hex: {OLD.hex()}
              - hex: {NEW.hex()}
            aliases: [alias/payments]
            tags: {{team: blue}}
        {extra}"""


def test_seeded_key_encrypts_under_its_fixed_id_and_alias(kms: KmsEnv) -> None:
    result = seed(kms, two_backing_keys())
    assert result.created == [ARN]
    assert result.aliases == [f"created alias/payments -> {KEY_ID}"]
    meta = kms.call("DescribeKey", KeyId="alias/payments")["KeyMetadata"]
    assert meta["KeyId"] == KEY_ID and meta["Description"] == "payments"
    assert meta["CurrentKeyMaterialId"] == seed_material_id(ACCOUNT, KEY_ID, NEW)
    blob = kms.call("Encrypt", KeyId=KEY_ID, Plaintext=b"card")["CiphertextBlob"]
    assert kms.call("Decrypt", CiphertextBlob=blob)["Plaintext"] == b"card"
    # The newest backing key is current: the blob opens with NEW, not OLD.
    current = BackingKey(ACCOUNT, KEY_ID, seed_material_id(ACCOUNT, KEY_ID, NEW), NEW)
    assert current.decrypt(blob, encode_context(None)) == b"card"
    tags = kms.call("ListResourceTags", KeyId=KEY_ID)["Tags"]
    assert tags == [{"TagKey": "team", "TagValue": "blue"}]
    assert (
        kms.call("GetKeyPolicy", KeyId=KEY_ID)["Policy"]
        == kms.call("GetKeyPolicy", KeyId=kms.key()["KeyId"])["Policy"]
    )  # the default key policy


def test_ciphertext_of_an_older_backing_key_decrypts(kms: KmsEnv) -> None:
    seed(kms, two_backing_keys())
    # Made outside this store with the old backing key, as another Strongroom
    # seeded from the same file would have made it.
    old = BackingKey(ACCOUNT, KEY_ID, seed_material_id(ACCOUNT, KEY_ID, OLD), OLD)
    blob = old.encrypt(b"from 2019", encode_context({"purpose": "test"}))
    out = kms.call("Decrypt", CiphertextBlob=blob, EncryptionContext={"purpose": "test"})
    assert out["Plaintext"] == b"from 2019"
    assert out["KeyMaterialId"] == seed_material_id(ACCOUNT, KEY_ID, OLD)
    rotations = kms.call("ListKeyRotations", KeyId=KEY_ID, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    states = [(r["KeyMaterialState"], r.get("RotationType")) for r in rotations["Rotations"]]
    assert states == [("NON_CURRENT", None), ("CURRENT", "ON_DEMAND")]


def test_appending_a_backing_key_rotates_and_keeps_old_ciphertexts(kms: KmsEnv) -> None:
    seed(kms, f"keys:\n  - id: {KEY_ID}\n    material: [{{hex: {OLD.hex()}}}]\n")
    blob = kms.call("Encrypt", KeyId=KEY_ID, Plaintext=b"v1")["CiphertextBlob"]
    result = seed(kms, two_backing_keys())
    assert result.updated[ARN][0] == "rotated to backing key 1"
    assert kms.call("Decrypt", CiphertextBlob=blob)["Plaintext"] == b"v1"
    new_blob = kms.call("Encrypt", KeyId=KEY_ID, Plaintext=b"v2")["CiphertextBlob"]
    assert kms.call("Decrypt", CiphertextBlob=new_blob)["KeyMaterialId"] == seed_material_id(
        ACCOUNT, KEY_ID, NEW
    )


def test_the_same_file_again_changes_nothing(kms: KmsEnv) -> None:
    seed(kms, two_backing_keys())
    before = snapshot(kms)
    kms.clock.advance(3600)
    result = seed(kms, two_backing_keys())
    assert result.unchanged == [ARN]
    assert not result.changed
    assert snapshot(kms) == before


def test_generated_material_is_made_once_and_kept(kms: KmsEnv) -> None:
    text = f"keys:\n  - id: {KEY_ID}\n  - id: {OTHER_ID}\n    key_spec: ECC_NIST_P256\n"
    seed(kms, text)
    first = kms.call("DescribeKey", KeyId=KEY_ID)["KeyMetadata"]["CurrentKeyMaterialId"]
    public = kms.call("GetPublicKey", KeyId=OTHER_ID)["PublicKey"]
    seed(kms, text)
    assert kms.call("DescribeKey", KeyId=KEY_ID)["KeyMetadata"]["CurrentKeyMaterialId"] == first
    assert kms.call("GetPublicKey", KeyId=OTHER_ID)["PublicKey"] == public


def test_changed_description_policy_tags_and_state_are_applied(kms: KmsEnv) -> None:
    seed(kms, two_backing_keys())
    policy = key_policy(
        root_statement(),
        {
            "Sid": "x",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "kms:ScheduleKeyDeletion",
            "Resource": "*",
        },
    )
    changed = f"""
        keys:
          - id: {KEY_ID}
            description: payments v2
            enabled: false
            policy: '{policy}'
            tags: {{team: red, tier: "1"}}
            rotation: {{enabled: true, period_days: 90}}
            aliases: [alias/payments]
        """
    result = seed(kms, changed)
    assert result.updated[ARN] == [
        "description",
        "policy",
        "tags",
        "disabled",
        "rotation every 90 days",
    ]
    meta = kms.call("DescribeKey", KeyId=KEY_ID)["KeyMetadata"]
    assert (meta["Description"], meta["KeyState"]) == ("payments v2", "Disabled")
    assert json.loads(kms.call("GetKeyPolicy", KeyId=KEY_ID)["Policy"]) == json.loads(policy)
    with pytest.raises(ServiceError) as info:
        kms.call("Encrypt", KeyId=KEY_ID, Plaintext=b"x")
    assert info.value.code == "DisabledException"
    # Back to the first file: enabled again, rotation off, default policy.
    kms.call("EnableKey", KeyId=KEY_ID)  # (rotation status is only readable when enabled)
    status = kms.call("GetKeyRotationStatus", KeyId=KEY_ID)
    assert status["KeyRotationEnabled"] and status["RotationPeriodInDays"] == 90
    result = seed(kms, two_backing_keys())
    assert "rotation disabled" in result.updated[ARN]
    assert not kms.call("GetKeyRotationStatus", KeyId=KEY_ID)["KeyRotationEnabled"]
    assert kms.call("Encrypt", KeyId=KEY_ID, Plaintext=b"x")["KeyId"] == ARN


def test_aliases_follow_the_file_but_api_aliases_are_left_alone(kms: KmsEnv) -> None:
    seed(kms, two_backing_keys(f"  - id: {OTHER_ID}\n"))
    kms.call("CreateAlias", AliasName="alias/by-api", TargetKeyId=KEY_ID)
    renamed = two_backing_keys(f"  - id: {OTHER_ID}\n            aliases: [alias/payments]\n")
    renamed = renamed.replace("aliases: [alias/payments]\n            tags", "tags", 1)
    result = seed(kms, renamed)
    assert result.aliases == [f"re-pointed alias/payments -> {OTHER_ID}"]
    listed = {a["AliasName"]: a["TargetKeyId"] for a in kms.call("ListAliases")["Aliases"]}
    assert listed["alias/payments"] == OTHER_ID and listed["alias/by-api"] == KEY_ID
    assert kms.call("DescribeKey", KeyId=KEY_ID)["KeyMetadata"]["KeyId"] == KEY_ID
    # Dropping the alias from the file deletes it (it was the seed's), not alias/by-api.
    result = seed(
        kms, f"keys:\n  - id: {KEY_ID}\n    material: [{{hex: {OLD.hex()}}}]\n  - id: {OTHER_ID}\n"
    )
    assert result.aliases == ["deleted alias/payments (no longer in the seed file)"]
    listed = {a["AliasName"]: a["TargetKeyId"] for a in kms.call("ListAliases")["Aliases"]}
    assert "alias/payments" not in listed and listed["alias/by-api"] == KEY_ID
    record = kms.kms.repo.read().key(ACCOUNT, "us-east-1", OTHER_ID)
    assert record is not None and record.aliases == []


def test_different_material_is_refused_and_nothing_is_applied(kms: KmsEnv) -> None:
    seed(kms, two_backing_keys())
    before = snapshot(kms)
    text = f"""
        keys:
          - id: {OTHER_ID}
          - id: {KEY_ID}
            material:
              - hex: {NEW.hex()}
        """
    with pytest.raises(SeedError) as info:
        seed(kms, text)
    assert len(info.value.problems) == 1
    problem = info.value.problems[0]
    assert problem.startswith(f"seed.yaml:6: key {KEY_ID}: material[0] differs")
    assert "never replaces key material" in problem
    assert snapshot(kms) == before  # OTHER_ID was not created either


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("key_spec: HMAC_256", "key_spec is SYMMETRIC_DEFAULT in the store and HMAC_256"),
        ("origin: EXTERNAL", "origin is AWS_KMS in the store and EXTERNAL"),
    ],
)
def test_fixed_properties_cannot_change(kms: KmsEnv, field: str, expected: str) -> None:
    seed(kms, f"keys:\n  - id: {KEY_ID}\n")
    with pytest.raises(SeedError) as info:
        seed(kms, f"keys:\n  - id: {KEY_ID}\n    {field}\n")
    assert expected in info.value.problems[0]


def test_a_rotation_after_seeding_does_not_conflict(kms: KmsEnv) -> None:
    seed(kms, two_backing_keys())
    kms.call("RotateKeyOnDemand", KeyId=KEY_ID)
    assert seed(kms, two_backing_keys()).unchanged == [ARN]


def test_asymmetric_key_from_pem_signs_for_an_independent_verifier(kms: KmsEnv) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    text = f"keys:\n  - id: {KEY_ID}\n    key_spec: ECC_NIST_P256\n    material:\n      pem: |\n"
    seed(kms, text + textwrap.indent(pem, " " * 8))
    signature = kms.call("Sign", KeyId=KEY_ID, Message=b"hello", SigningAlgorithm="ECDSA_SHA_256")[
        "Signature"
    ]
    private.public_key().verify(signature, b"hello", ec.ECDSA(hashes.SHA256()))


def test_hmac_key_from_hex_matches_a_local_hmac(kms: KmsEnv) -> None:
    secret = bytes(range(32))
    seed(
        kms,
        f"keys:\n  - id: {KEY_ID}\n    key_spec: HMAC_256\n    material: {{hex: {secret.hex()}}}\n",
    )
    mac = kms.call("GenerateMac", KeyId=KEY_ID, Message=b"m", MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(secret, b"m", hashlib.sha256).digest()


def test_external_key_waits_for_material_then_takes_it(kms: KmsEnv) -> None:
    seed(kms, f"keys:\n  - id: {KEY_ID}\n    origin: EXTERNAL\n")
    assert kms.call("DescribeKey", KeyId=KEY_ID)["KeyMetadata"]["KeyState"] == "PendingImport"
    result = seed(
        kms,
        f"keys:\n  - id: {KEY_ID}\n    origin: EXTERNAL\n    material: [{{hex: {OLD.hex()}}}]\n",
    )
    assert result.updated[ARN] == ["key material imported"]
    meta = kms.call("DescribeKey", KeyId=KEY_ID)["KeyMetadata"]
    assert (meta["KeyState"], meta["Origin"]) == ("Enabled", "EXTERNAL")
    assert meta["ExpirationModel"] == "KEY_MATERIAL_DOES_NOT_EXPIRE"
    blob = kms.call("Encrypt", KeyId=KEY_ID, Plaintext=b"x")["CiphertextBlob"]
    assert kms.call("Decrypt", CiphertextBlob=blob)["Plaintext"] == b"x"


def test_a_key_pending_deletion_keeps_its_state_with_a_warning(kms: KmsEnv) -> None:
    seed(kms, f"keys:\n  - id: {KEY_ID}\n")
    kms.call("ScheduleKeyDeletion", KeyId=KEY_ID, PendingWindowInDays=7)
    result = seed(kms, f"keys:\n  - id: {KEY_ID}\n    description: still here\n")
    assert result.updated[ARN] == ["description"]
    assert "PendingDeletion" in result.warnings[0]
    assert kms.call("DescribeKey", KeyId=KEY_ID)["KeyMetadata"]["KeyState"] == "PendingDeletion"


def test_keys_in_another_account_and_region(kms: KmsEnv) -> None:
    from tests.support.fake_platform import OTHER_ACCOUNT

    text = f"""
        keys:
          - id: {KEY_ID}
            account: "{OTHER_ACCOUNT}"
            region: eu-west-1
            aliases: [alias/theirs]
        """
    result = seed(kms, text)
    assert result.created == [f"arn:aws:kms:eu-west-1:{OTHER_ACCOUNT}:key/{KEY_ID}"]
    out = kms.call(
        "DescribeKey", KeyId="alias/theirs", principal=kms.other_admin, region="eu-west-1"
    )
    assert out["KeyMetadata"]["AWSAccountId"] == OTHER_ACCOUNT


def test_an_alias_to_a_missing_key_is_refused(kms: KmsEnv) -> None:
    with pytest.raises(SeedError) as info:
        seed(kms, f"aliases:\n  - {{name: alias/nowhere, target: {OTHER_ID}}}\n")
    assert info.value.problems[0].startswith("seed.yaml:2: alias/nowhere targets key")
