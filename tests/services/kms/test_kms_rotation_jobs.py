"""Rotation (automatic by the job, on demand), deletion by the job, multi-Region keys."""

from __future__ import annotations

from datetime import timedelta

from tests.services.kms.kms_support import OTHER_REGION, KmsEnv
from tests.support.fake_platform import ACCOUNT

DAY = 86_400


def _run_jobs(kms: KmsEnv) -> None:
    kms.kms.jobs.run(kms.clock.now)


def test_rotation_settings(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    status = kms.call("GetKeyRotationStatus", KeyId=key_id)
    assert status == {"KeyId": status["KeyId"], "KeyRotationEnabled": False}
    kms.call("EnableKeyRotation", KeyId=key_id, RotationPeriodInDays=90)
    status = kms.call("GetKeyRotationStatus", KeyId=key_id)
    assert status["KeyRotationEnabled"] is True and status["RotationPeriodInDays"] == 90
    assert status["NextRotationDate"] == kms.clock.now + timedelta(days=90)
    for bad in (89, 2561):
        err = kms.error("EnableKeyRotation", KeyId=key_id, RotationPeriodInDays=bad)
        assert err.code == "ValidationException"
    kms.call("DisableKeyRotation", KeyId=key_id)
    assert kms.call("GetKeyRotationStatus", KeyId=key_id)["KeyRotationEnabled"] is False
    kms.call("DisableKey", KeyId=key_id)
    assert kms.error("EnableKeyRotation", KeyId=key_id).code == "DisabledException"
    assert kms.error("RotateKeyOnDemand", KeyId=key_id).code == "DisabledException"


def test_rotation_unsupported_for_other_keys(kms: KmsEnv) -> None:
    mac = kms.key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyId"]
    assert kms.error("EnableKeyRotation", KeyId=mac).code == "UnsupportedOperationException"
    assert kms.error("RotateKeyOnDemand", KeyId=mac).code == "UnsupportedOperationException"
    external = kms.key(Origin="EXTERNAL")["KeyId"]
    assert kms.error("EnableKeyRotation", KeyId=external).code in (
        "UnsupportedOperationException",
        "KMSInvalidStateException",
    )


def test_automatic_rotation_keeps_old_ciphertexts(kms: KmsEnv) -> None:
    md = kms.key()
    key_id = md["KeyId"]
    old_blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"old")["CiphertextBlob"]
    kms.call("EnableKeyRotation", KeyId=key_id, RotationPeriodInDays=90)
    kms.clock.advance(89 * DAY)
    _run_jobs(kms)
    assert kms.call("ListKeyRotations", KeyId=key_id)["Rotations"] == []
    kms.clock.advance(2 * DAY)
    _run_jobs(kms)
    rotations = kms.call("ListKeyRotations", KeyId=key_id)["Rotations"]
    assert len(rotations) == 1 and rotations[0]["RotationType"] == "AUTOMATIC"
    after = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert after["Arn"] == md["Arn"]
    assert after["CurrentKeyMaterialId"] == rotations[0]["KeyMaterialId"]
    assert after["CurrentKeyMaterialId"] != md["CurrentKeyMaterialId"]
    new = kms.call("Encrypt", KeyId=key_id, Plaintext=b"new")
    assert kms.call("Decrypt", CiphertextBlob=old_blob)["Plaintext"] == b"old"
    plain = kms.call("Decrypt", CiphertextBlob=new["CiphertextBlob"])
    assert plain["KeyMaterialId"] == rotations[0]["KeyMaterialId"]
    status = kms.call("GetKeyRotationStatus", KeyId=key_id)
    assert status["NextRotationDate"] > kms.clock.now
    everything = kms.call("ListKeyRotations", KeyId=key_id, IncludeKeyMaterial="ALL_KEY_MATERIAL")
    states = [r["KeyMaterialState"] for r in everything["Rotations"]]
    assert states == ["NON_CURRENT", "CURRENT"]


def test_rotate_on_demand_limit(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    for _ in range(25):
        assert kms.call("RotateKeyOnDemand", KeyId=key_id)["KeyId"] == key_id
    assert kms.error("RotateKeyOnDemand", KeyId=key_id).code == "LimitExceededException"
    rotations = kms.call("ListKeyRotations", KeyId=key_id, Limit=10)
    assert rotations["Truncated"] is True and len(rotations["Rotations"]) == 10
    assert all(r["RotationType"] == "ON_DEMAND" for r in rotations["Rotations"])
    assert kms.call("Decrypt", CiphertextBlob=blob)["Plaintext"] == b"x"


def test_deletion_job_destroys_the_key(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    kms.call("CreateAlias", AliasName="alias/doomed", TargetKeyId=key_id)
    kms.call(
        "CreateGrant",
        KeyId=key_id,
        GranteePrincipal=f"arn:aws:iam::{ACCOUNT}:user/admin",
        Operations=["Decrypt"],
    )
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.call("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    kms.clock.advance(6 * DAY)
    _run_jobs(kms)
    assert kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.clock.advance(1 * DAY + 1)
    _run_jobs(kms)
    assert kms.error("DescribeKey", KeyId=key_id).code == "NotFoundException"
    assert kms.error("Decrypt", CiphertextBlob=blob).code == "InvalidCiphertextException"
    assert kms.call("ListAliases")["Aliases"] == []
    # Request counters (kms/requests/…, counts only) outlive the key on purpose:
    # the usage report still bills the requests made before the deletion.
    leftovers = [k for k in kms.store.dump() if key_id in k and not k.startswith("kms/requests/")]
    assert leftovers == []


def test_canceled_deletion_is_not_carried_out(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    kms.call("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    kms.call("CancelKeyDeletion", KeyId=key_id)
    kms.clock.advance(8 * DAY)
    _run_jobs(kms)
    assert kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]["KeyState"] == "Disabled"


def test_the_job_is_registered_with_the_platform(kms: KmsEnv) -> None:
    names = [job.name for job in kms.platform.jobs._jobs]
    assert "kms-scheduled-work" in names


def test_multi_region_key(kms: KmsEnv) -> None:
    md = kms.key(MultiRegion=True, Description="mrk")
    key_id = md["KeyId"]
    assert key_id.startswith("mrk-") and len(key_id) == 36
    assert md["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"everywhere")["CiphertextBlob"]
    out = kms.call(
        "ReplicateKey",
        KeyId=key_id,
        ReplicaRegion=OTHER_REGION,
        Tags=[{"TagKey": "r", "TagValue": "eu"}],
    )
    replica = out["ReplicaKeyMetadata"]
    assert replica["Arn"] == f"arn:aws:kms:{OTHER_REGION}:{ACCOUNT}:key/{key_id}"
    assert replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    assert out["ReplicaTags"] == [{"TagKey": "r", "TagValue": "eu"}]
    plain = kms.call("Decrypt", CiphertextBlob=blob, region=OTHER_REGION)
    assert plain["Plaintext"] == b"everywhere" and plain["KeyId"] == replica["Arn"]
    back = kms.call("Encrypt", KeyId=key_id, Plaintext=b"back", region=OTHER_REGION)
    assert kms.call("Decrypt", CiphertextBlob=back["CiphertextBlob"])["Plaintext"] == b"back"
    primary = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert primary["MultiRegionConfiguration"]["ReplicaKeys"] == [
        {"Arn": replica["Arn"], "Region": OTHER_REGION}
    ]
    err = kms.error("ReplicateKey", KeyId=key_id, ReplicaRegion=OTHER_REGION)
    assert err.code == "AlreadyExistsException"
    # Rotation of the primary reaches the replica.
    kms.call("RotateKeyOnDemand", KeyId=key_id)
    rotated = kms.call("Encrypt", KeyId=key_id, Plaintext=b"r")["CiphertextBlob"]
    assert kms.call("Decrypt", CiphertextBlob=rotated, region=OTHER_REGION)["Plaintext"] == b"r"
    # Swap the primary.
    kms.call("UpdatePrimaryRegion", KeyId=key_id, PrimaryRegion=OTHER_REGION)
    now_replica = kms.call("DescribeKey", KeyId=key_id)["KeyMetadata"]
    assert now_replica["MultiRegionConfiguration"]["MultiRegionKeyType"] == "REPLICA"
    now_primary = kms.call("DescribeKey", KeyId=key_id, region=OTHER_REGION)["KeyMetadata"]
    assert now_primary["MultiRegionConfiguration"]["MultiRegionKeyType"] == "PRIMARY"


def test_multi_region_errors(kms: KmsEnv) -> None:
    single = kms.key()["KeyId"]
    err = kms.error("ReplicateKey", KeyId=single, ReplicaRegion=OTHER_REGION)
    assert err.code == "UnsupportedOperationException"
    mrk = kms.key(MultiRegion=True)["KeyId"]
    assert kms.error("ReplicateKey", KeyId=mrk, ReplicaRegion="us-east-1").code == (
        "ValidationException"
    )
    kms.call("ReplicateKey", KeyId=mrk, ReplicaRegion=OTHER_REGION)
    err = kms.error("ReplicateKey", KeyId=mrk, ReplicaRegion="ap-south-1", region=OTHER_REGION)
    assert err.code == "UnsupportedOperationException"  # replicas are not replicated
    err = kms.error("UpdatePrimaryRegion", KeyId=mrk, PrimaryRegion="ap-south-1")
    assert err.code == "NotFoundException"


def test_primary_waits_for_its_replicas_before_deletion(kms: KmsEnv) -> None:
    mrk = kms.key(MultiRegion=True)["KeyId"]
    kms.call("ReplicateKey", KeyId=mrk, ReplicaRegion=OTHER_REGION)
    out = kms.call("ScheduleKeyDeletion", KeyId=mrk, PendingWindowInDays=7)
    assert out["KeyState"] == "PendingReplicaDeletion"
    kms.call("ScheduleKeyDeletion", KeyId=mrk, PendingWindowInDays=7, region=OTHER_REGION)
    kms.clock.advance(7 * DAY + 1)
    _run_jobs(kms)
    assert kms.error("DescribeKey", KeyId=mrk, region=OTHER_REGION).code == "NotFoundException"
    primary = kms.call("DescribeKey", KeyId=mrk)["KeyMetadata"]
    assert primary["KeyState"] == "PendingDeletion"
    assert primary["MultiRegionConfiguration"]["ReplicaKeys"] == []
    kms.clock.advance(7 * DAY + 1)
    _run_jobs(kms)
    assert kms.error("DescribeKey", KeyId=mrk).code == "NotFoundException"
