"""KMS's EventBridge events: rotation, deletion and imported-material expiration,
published by the background jobs (and RotateKeyOnDemand) and routed to rules."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from tests.events.events_http import endpoint
from tests.services.kms.kms_support import REGION, KmsEnv
from tests.support.fake_platform import ACCOUNT

from strongroom.crypto.kms import wrap_key_material
from strongroom.errors import ServiceError
from strongroom.events.bus import read_events
from strongroom.services.events.service import EventsService

DAY = 86_400
SIGNING_SECRET_ID = "events/kms-hook"
SIGNING_TAG = [{"Key": "strongroom:signing-secret-id", "Value": SIGNING_SECRET_ID}]


class KmsWithEvents(KmsEnv):
    """KMS and EventBridge on one platform; the signing secret is stood in for."""

    def __init__(self) -> None:
        super().__init__()
        self.events = EventsService(self.platform)
        self.env.add_service("events", self.events)
        self.events.worker.secrets = lambda account, region, secret_id: b"k" * 32

    def ev(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.env.call("events", operation, params)

    def run_jobs(self) -> None:
        self.kms.jobs.run(self.clock.now)

    def kms_events(self) -> list[dict[str, Any]]:
        return [e for e in read_events(self.store, ACCOUNT, REGION) if e["source"] == "aws.kms"]


@pytest.fixture()
def env() -> KmsWithEvents:
    return KmsWithEvents()


def _import(env: KmsEnv, key_id: str, material: bytes, **extra: object) -> None:
    params = env.call(
        "GetParametersForImport",
        KeyId=key_id,
        WrappingAlgorithm="RSAES_OAEP_SHA_256",
        WrappingKeySpec="RSA_2048",
    )
    wrapped = wrap_key_material(params["PublicKey"], "RSAES_OAEP_SHA_256", material)
    env.call(
        "ImportKeyMaterial",
        KeyId=key_id,
        ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapped,
        **extra,
    )


def test_platform_events_is_the_routing_bus(env: KmsWithEvents) -> None:
    assert env.platform.events is env.events.bus


def test_rule_with_http_target_receives_rotation_and_deletion(env: KmsWithEvents) -> None:
    env.ev("PutRule", Name="kms", EventPattern='{"source":["aws.kms"]}', Tags=SIGNING_TAG)
    with endpoint() as hook:
        env.ev(
            "PutTargets", Rule="kms", Targets=[{"Id": "hook", "Arn": f"strongroom:http:{hook.url}"}]
        )
        rotating = env.key()
        env.call("EnableKeyRotation", KeyId=rotating["KeyId"], RotationPeriodInDays=90)
        doomed = env.key()
        env.call("ScheduleKeyDeletion", KeyId=doomed["KeyId"], PendingWindowInDays=7)

        env.clock.advance(6 * DAY)
        env.run_jobs()
        assert env.kms_events() == []  # nothing is due yet: nothing to announce

        env.clock.advance(85 * DAY)
        env.run_jobs()
        assert env.events.worker.run(env.clock.now) == 2
        bodies = [json.loads(r.body) for r in hook.received]

    by_type = {b["detail-type"]: b for b in bodies}
    assert set(by_type) == {"KMS CMK Rotation", "KMS CMK Deletion"}
    deletion = by_type["KMS CMK Deletion"]
    assert deletion["source"] == "aws.kms"
    assert deletion["account"] == ACCOUNT and deletion["region"] == REGION
    assert deletion["resources"] == [doomed["Arn"]]
    assert deletion["detail"] == {"key-id": doomed["KeyId"]}
    rotation = by_type["KMS CMK Rotation"]
    assert rotation["resources"] == [rotating["Arn"]]
    current = env.call("DescribeKey", KeyId=rotating["KeyId"])["KeyMetadata"]
    assert rotation["detail"] == {
        "key-id": rotating["KeyId"],
        "key-origin": "AWS_KMS",
        "rotation-type": "AUTOMATIC",
        "previous-key-material-id": rotating["CurrentKeyMaterialId"],
        "current-key-material-id": current["CurrentKeyMaterialId"],
    }
    # Done work is not announced again.
    env.clock.advance(DAY)
    env.run_jobs()
    assert len(env.kms_events()) == 2


def test_canceled_deletion_and_disabled_rotation_announce_nothing(env: KmsWithEvents) -> None:
    kept = env.key()["KeyId"]
    env.call("ScheduleKeyDeletion", KeyId=kept, PendingWindowInDays=7)
    env.call("CancelKeyDeletion", KeyId=kept)
    paused = env.key()["KeyId"]
    env.call("EnableKeyRotation", KeyId=paused, RotationPeriodInDays=90)
    env.call("DisableKey", KeyId=paused)
    env.clock.advance(100 * DAY)
    env.run_jobs()
    assert env.kms_events() == []


def test_on_demand_rotation_is_announced(env: KmsWithEvents) -> None:
    md = env.key()
    env.call("RotateKeyOnDemand", KeyId=md["KeyId"])
    [event] = env.kms_events()
    assert event["detail-type"] == "KMS CMK Rotation"
    assert event["resources"] == [md["Arn"]]
    assert event["detail"]["rotation-type"] == "ON_DEMAND"
    assert event["detail"]["previous-key-material-id"] == md["CurrentKeyMaterialId"]
    after = env.call("DescribeKey", KeyId=md["KeyId"])["KeyMetadata"]["CurrentKeyMaterialId"]
    assert event["detail"]["current-key-material-id"] == after
    # A refused rotation announces nothing.
    env.call("DisableKey", KeyId=md["KeyId"])
    with pytest.raises(ServiceError):
        env.call("RotateKeyOnDemand", KeyId=md["KeyId"])
    assert len(env.kms_events()) == 1


def test_imported_material_expiration_is_announced(env: KmsWithEvents) -> None:
    md = env.key(Origin="EXTERNAL")
    _import(env, md["KeyId"], bytes(range(32)), ValidTo=env.clock.now + timedelta(days=1))
    env.run_jobs()
    assert env.kms_events() == []
    env.clock.advance(DAY + 1)
    env.run_jobs()
    [event] = env.kms_events()
    assert event["detail-type"] == "KMS Imported Key Material Expiration"
    assert event["resources"] == [md["Arn"]]
    assert event["detail"] == {"key-id": md["KeyId"]}
    env.run_jobs()
    assert len(env.kms_events()) == 1


def test_events_are_recorded_without_the_eventbridge_service() -> None:
    kms = KmsEnv()
    md = kms.key()
    kms.call("ScheduleKeyDeletion", KeyId=md["KeyId"], PendingWindowInDays=7)
    kms.clock.advance(8 * DAY)
    kms.kms.jobs.run(kms.clock.now)
    [event] = read_events(kms.store, ACCOUNT, REGION)
    assert event["detail-type"] == "KMS CMK Deletion" and event["source"] == "aws.kms"
