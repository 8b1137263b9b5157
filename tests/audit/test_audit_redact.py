"""No secret survives redaction, for every operation of every served model.

The inputs and outputs are generated from the botocore shapes: every string
that is sensitive (by shape, by an enclosing sensitive shape, or by a
member name we treat as secret) carries a known secret, every blob carries
it as bytes, and every other string carries a visible marker. The redacted
JSON must contain the marker (so the walk really happened) and never the
secret.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import ListShape, MapShape, Shape, StructureShape

from strongroom.audit.redact import HIDDEN, SECRET_MEMBER_NAMES, redact
from strongroom.protocol.models import SERVED_SERVICES, load_service

SECRET = "s3cr3t-VALUE-4b1d"
VISIBLE = "visible-marker"


def fill(shape: Shape, secret: bool, depth: int = 0) -> Any:
    secret = secret or bool(shape.metadata.get("sensitive"))
    if isinstance(shape, StructureShape):
        if depth > 5:
            return {}
        return {
            name: fill(member, secret or name in SECRET_MEMBER_NAMES, depth + 1)
            for name, member in shape.members.items()
        }
    if isinstance(shape, ListShape):
        return [fill(shape.member, secret, depth + 1)]
    if isinstance(shape, MapShape):
        return {"key": fill(shape.value, secret, depth + 1)}
    kind = shape.type_name
    if kind == "blob":
        return SECRET.encode()
    if kind == "string":
        return SECRET if secret else VISIBLE
    if kind == "timestamp":
        return datetime(2024, 1, 1, tzinfo=UTC)
    if kind == "boolean":
        return True
    if kind in ("integer", "long"):
        return 1
    if kind in ("float", "double"):
        return 1.5
    return VISIBLE


def operations() -> list[tuple[str, str]]:
    return [(svc, op) for svc in SERVED_SERVICES for op in sorted(load_service(svc).operations)]


@pytest.mark.parametrize("direction", ["input", "output"])
def test_every_operation_hides_every_secret(direction: str) -> None:
    checked = with_secret = visible = 0
    for service, operation in operations():
        model = load_service(service).operation(operation)
        assert model is not None
        shape = model.input_shape if direction == "input" else model.output_shape
        if shape is None:
            continue
        value = fill(shape, False)
        text = json.dumps(redact(shape, value))
        assert SECRET not in text, f"{service}:{operation} {direction} leaks a secret: {text}"
        checked += 1
        visible += VISIBLE in text
        if SECRET in json.dumps(
            value, default=lambda v: v.decode() if isinstance(v, bytes) else str(v)
        ):
            with_secret += 1
    # The walk covered the models, and many operations really carried secrets.
    assert checked > 400 and with_secret > 30 and visible > checked // 2


def test_known_secrets_by_name() -> None:
    sts = load_service("sts").operation("AssumeRole")
    iam = load_service("iam").operation("CreateAccessKey")
    kms = load_service("kms").operation("Decrypt")
    assert sts is not None and iam is not None and kms is not None
    creds = {
        "Credentials": {
            "AccessKeyId": "ASIAEXAMPLE",
            "SecretAccessKey": SECRET,
            "SessionToken": SECRET + "-token",
            "Expiration": datetime(2024, 1, 1, tzinfo=UTC),
        },
        "AssumedRoleUser": {"AssumedRoleId": "AROA:s", "Arn": "arn:aws:sts::1:assumed-role/R/s"},
    }
    out = redact(sts.output_shape, creds)
    assert out is not None
    assert out["credentials"]["accessKeyId"] == "ASIAEXAMPLE"  # lowerCamel, still there
    assert out["credentials"]["secretAccessKey"] == HIDDEN
    assert out["credentials"]["sessionToken"] == HIDDEN  # tokenType is not marked sensitive
    key = redact(
        iam.output_shape,
        {
            "AccessKey": {
                "UserName": "u",
                "AccessKeyId": "AKIA1",
                "Status": "Active",
                "SecretAccessKey": SECRET,
            }
        },
    )
    assert key is not None and key["accessKey"]["secretAccessKey"] == HIDDEN
    # Blobs are left out, as CloudTrail leaves them out; maps keep their keys.
    dec = redact(
        kms.input_shape,
        {"CiphertextBlob": b"\x01\x02", "EncryptionContext": {"Purpose": "test"}},
    )
    assert dec == {"encryptionContext": {"Purpose": "test"}}
    assert redact(kms.output_shape, {"KeyId": "k", "Plaintext": SECRET.encode()}) == {"keyId": "k"}


def test_unknown_members_and_empty_inputs() -> None:
    op = load_service("iam").operation("CreateUser")
    assert op is not None
    assert redact(op.input_shape, {"UserName": "bob", "NotInModel": SECRET}) == {"userName": "bob"}
    assert redact(op.input_shape, {}) is None
    assert redact(None, {"x": 1}) is None


def test_string_maps_are_recorded_as_they_are() -> None:
    decrypt = load_service("kms").operation("Decrypt")
    assert decrypt is not None
    context = {"SecretARN": "arn:aws:secretsmanager:us-east-1:1:secret:x", "b": ""}
    out = redact(decrypt.input_shape, {"CiphertextBlob": b"x", "EncryptionContext": context})
    assert out == {"encryptionContext": context}
    # Values that are not strings take the general path, which keeps scalars.
    odd = redact(decrypt.input_shape, {"EncryptionContext": {"n": 5, "s": "t"}})
    assert odd == {"encryptionContext": {"n": 5, "s": "t"}}
    assert out is not None and out["encryptionContext"] is not context  # a copy
    # So do keys that are not strings (written as text, as JSON has them).
    keyed = redact(decrypt.input_shape, {"EncryptionContext": {1: "a", "s": "t"}})
    assert keyed == {"encryptionContext": {"1": "a", "s": "t"}}
