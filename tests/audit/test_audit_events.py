"""CloudTrail records built from CallFacts: fields, identities, copies, readOnly."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from strongroom.audit import resources
from strongroom.audit.events import build_events
from strongroom.audit.readonly import is_read_only, needs_intent, records_response
from strongroom.audit.record import CallFacts, new_uuid
from strongroom.errors import ServiceError
from strongroom.iam.principal import Principal, PrincipalType, SessionContext
from strongroom.protocol.models import load_service

ACCOUNT = "111122223333"
OTHER = "444455556666"
NOW = datetime(2024, 5, 1, 12, 0, 7, 123456, tzinfo=UTC)

USER = Principal(
    ACCOUNT,
    f"arn:aws:iam::{ACCOUNT}:user/alice",
    PrincipalType.USER,
    "AIDAALICE",
    "AKIAALICE",
    user_name="alice",
)
ROLE_SESSION = Principal(
    ACCOUNT,
    f"arn:aws:sts::{ACCOUNT}:assumed-role/Deployer/build-42",
    PrincipalType.ASSUMED_ROLE,
    "AROADEPLOYER:build-42",
    "ASIASESSION",
    session=SessionContext(
        issuer_arn=f"arn:aws:iam::{ACCOUNT}:role/Deployer",
        issuer_id="AROADEPLOYER",
        issuer_type="Role",
        session_name="build-42",
        created=NOW - timedelta(minutes=5),
        expires=NOW + timedelta(hours=1),
        source_identity="ci",
    ),
)


def facts(service: str, operation: str, **kw: Any) -> CallFacts:
    spec = load_service(service)
    base: dict[str, Any] = dict(
        request_id=new_uuid(),
        event_time=NOW,
        default_account="000000000000",
        default_region="us-east-1",
        source_ip="198.51.100.7",
        user_agent="aws-cli/2",
        claim_region="eu-west-1",
        claim_service=spec.signing_name,
        principal=USER,
        spec=spec,
        operation=operation,
        params={},
    )
    base.update(kw)
    return CallFacts(**base)


def records(f: CallFacts, exists: Any = lambda a: True) -> list[dict[str, Any]]:
    return [json.loads(e.encode()) for e in build_events(f, exists)]


def test_a_successful_mutating_call() -> None:
    f = facts(
        "iam",
        "CreateUser",
        params={"UserName": "bob"},
        result={
            "User": {
                "UserName": "bob",
                "UserId": "AIDABOB",
                "Arn": "arn:aws:iam::1:user/bob",
                "Path": "/",
                "CreateDate": NOW,
            }
        },
    )
    [rec] = records(f)
    assert rec["eventVersion"] == "1.08"
    assert rec["eventTime"] == "2024-05-01T12:00:07Z"
    assert rec["eventSource"] == "iam.amazonaws.com" and rec["eventName"] == "CreateUser"
    assert rec["awsRegion"] == "eu-west-1"
    assert rec["sourceIPAddress"] == "198.51.100.7" and rec["userAgent"] == "aws-cli/2"
    assert rec["requestParameters"] == {"userName": "bob"}
    assert rec["responseElements"]["user"]["userName"] == "bob"
    assert rec["requestID"] == f.request_id and rec["eventID"] == f.event_id
    assert rec["readOnly"] is False
    assert rec["eventType"] == "AwsApiCall" and rec["managementEvent"] is True
    assert rec["eventCategory"] == "Management" and rec["recipientAccountId"] == ACCOUNT
    assert "errorCode" not in rec and "tlsDetails" not in rec
    assert rec["userIdentity"] == {
        "type": "IAMUser",
        "principalId": "AIDAALICE",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAALICE",
        "userName": "alice",
    }


def test_errors_read_only_calls_and_tls() -> None:
    err = ServiceError("AccessDenied", "User: alice is not authorized", 403)
    f = facts(
        "sts",
        "GetCallerIdentity",
        error=err,
        tls={"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": "sts.example"},
    )
    [rec] = records(f)
    assert rec["errorCode"] == "AccessDenied"
    assert rec["errorMessage"] == "User: alice is not authorized"
    assert rec["readOnly"] is True and rec["responseElements"] is None
    assert rec["requestParameters"] is None
    assert rec["tlsDetails"] == {"tlsVersion": "TLSv1.3", "clientProvidedHostHeader": "sts.example"}
    ok = facts("sts", "GetCallerIdentity", result={"Account": ACCOUNT})
    assert records(ok)[0]["responseElements"] is None  # read-only: not recorded


def test_assumed_role_identity_has_its_session_context() -> None:
    [rec] = records(facts("sts", "GetCallerIdentity", principal=ROLE_SESSION))
    ident = rec["userIdentity"]
    assert ident["type"] == "AssumedRole" and ident["principalId"] == "AROADEPLOYER:build-42"
    assert ident["accessKeyId"] == "ASIASESSION"
    ctx = ident["sessionContext"]
    assert ctx["sessionIssuer"] == {
        "type": "Role",
        "principalId": "AROADEPLOYER",
        "arn": f"arn:aws:iam::{ACCOUNT}:role/Deployer",
        "accountId": ACCOUNT,
        "userName": "Deployer",
    }
    assert ctx["attributes"] == {
        "creationDate": "2024-05-01T11:55:07Z",
        "mfaAuthenticated": "false",
    }
    assert ctx["sourceIdentity"] == "ci"


def test_unauthenticated_requests() -> None:
    bad_sig = facts(
        "sts",
        "GetCallerIdentity",
        principal=None,
        access_key_id="AKIAALICE",
        key_account=ACCOUNT,
        error=ServiceError("SignatureDoesNotMatch", "sig", 403),
    )
    [rec] = records(bad_sig)
    assert rec["userIdentity"] == {
        "type": "Unknown",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAALICE",
    }
    assert rec["recipientAccountId"] == ACCOUNT
    garbage = CallFacts(
        request_id="r",
        event_time=NOW,
        default_account="000000000000",
        default_region="us-east-1",
        attempted_operation="Not A Name!",
        error=ServiceError("UnknownOperationException", "", 400),
    )
    [rec] = records(garbage)
    assert rec["eventSource"] == "unknown.amazonaws.com" and rec["eventName"] == "Unknown"
    assert rec["recipientAccountId"] == "000000000000" and rec["awsRegion"] == "us-east-1"
    assert rec["userIdentity"] == {"type": "Unknown"}


def test_cross_account_resources_are_copied_to_their_owner() -> None:
    key_arn = f"arn:aws:kms:us-east-1:{OTHER}:key/1234abcd"
    f = facts("kms", "Decrypt", audit={"resources": [key_arn]})
    caller, owner = records(f)
    assert caller["resources"] == [{"ARN": key_arn, "type": "AWS::KMS::Key", "accountId": OTHER}]
    assert caller["recipientAccountId"] == ACCOUNT and owner["recipientAccountId"] == OTHER
    assert caller["eventID"] != owner["eventID"]
    assert caller["sharedEventID"] == owner["sharedEventID"]
    assert caller["readOnly"] is True  # kms:Decrypt is read-only in CloudTrail
    # An account that does not exist gets no copy.
    assert len(records(f, exists=lambda a: False)) == 1
    # A same-account resource: one record, no sharedEventID.
    [only] = records(
        facts("kms", "Decrypt", audit={"resources": [key_arn.replace(OTHER, ACCOUNT)]})
    )
    assert "sharedEventID" not in only


def test_assume_role_is_recorded_in_the_roles_account() -> None:
    role = f"arn:aws:iam::{OTHER}:role/Auditor"
    f = facts("sts", "AssumeRole", params={"RoleArn": role, "RoleSessionName": "s"})
    assert [r["recipientAccountId"] for r in records(f)] == [ACCOUNT, OTHER]
    # ... but not for an unauthenticated request naming it.
    f.principal = None
    assert len(records(f)) == 1


def test_request_entry_has_no_outcome() -> None:
    f = facts("iam", "CreateUser", params={"UserName": "bob"}, error=ServiceError("X", "y"))
    [entry] = [json.loads(e.encode()) for e in build_events(f, lambda a: True, outcome=False)]
    assert "errorCode" not in entry and entry["responseElements"] is None
    assert entry["requestParameters"] == {"userName": "bob"}


def test_index_attributes() -> None:
    f = facts("iam", "CreateUser", params={"UserName": "bob"})
    [event] = build_events(f, lambda a: True)
    attrs = set(event.attrs)
    assert {
        ("n", "CreateUser"),
        ("s", "iam.amazonaws.com"),
        ("u", "alice"),
        ("k", "AKIAALICE"),
    } <= attrs
    assert {("t", "AWS::IAM::User"), ("m", "bob")} <= attrs


def test_read_only_rules() -> None:
    assert is_read_only("kms", "Decrypt") and is_read_only("kms", "GenerateDataKey")
    assert is_read_only("iam", "GetUser") and is_read_only("cloudtrail", "LookupEvents")
    assert not is_read_only("iam", "CreateUser") and not is_read_only("kms", "ScheduleKeyDeletion")
    assert is_read_only("sts", "AssumeRole") and needs_intent("sts", "AssumeRole", frozenset())
    assert not needs_intent("sts", "GetCallerIdentity", frozenset())
    assert needs_intent("secretsmanager", "GetSecretValue", frozenset({"GetSecretValue"}))
    assert records_response("sts", "AssumeRole") and not records_response("kms", "Decrypt")


def test_calls_made_in_process_for_another_service() -> None:
    from strongroom.audit.sealing import PlainSealer
    from strongroom.audit.trail import AuditTrail

    key_arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k1"
    f = facts(
        "secretsmanager",
        "GetSecretValue",
        params={"SecretId": "app/db"},
        audit={
            "nested_calls": [
                {
                    "service": "kms",
                    "operation": "Decrypt",
                    "params": {
                        "CiphertextBlob": b"\x01",
                        "EncryptionContext": {"SecretARN": "arn"},
                    },
                    "result": {"KeyId": key_arn, "Plaintext": b"secret"},
                    "audit": {"resources": [key_arn]},
                    "invoked_by": "secretsmanager.amazonaws.com",
                }
            ]
        },
    )

    class NoLog:
        def close(self) -> None: ...

    trail = AuditTrail(NoLog(), PlainSealer(), lambda a: True)  # type: ignore[arg-type]
    outer, inner = [json.loads(r.body) for r in trail.event_rows(f)]
    assert outer["eventSource"] == "secretsmanager.amazonaws.com"
    assert inner["eventSource"] == "kms.amazonaws.com" and inner["eventName"] == "Decrypt"
    assert inner["userIdentity"]["invokedBy"] == "secretsmanager.amazonaws.com"
    assert inner["sourceIPAddress"] == "secretsmanager.amazonaws.com"
    # A request of its own, as on AWS, at the caller's time.
    assert inner["requestID"] != outer["requestID"] and inner["eventID"] != outer["eventID"]
    assert inner["eventTime"] == outer["eventTime"]
    assert inner["requestParameters"] == {"encryptionContext": {"SecretARN": "arn"}}
    assert inner["resources"][0]["ARN"] == key_arn
    assert "invokedBy" not in outer["userIdentity"]


@pytest.mark.parametrize("source", sorted(resources._PARAM_RESOURCES))
def test_named_resources_follow_the_table_order_whatever_the_request_order(source: str) -> None:
    table = resources._PARAM_RESOURCES[source]
    members = list(table)
    for picked in (members[-1:], members[::-1][:2], members[::-1]):
        params: dict[str, object] = {m: f"name-{m}" for m in picked}
        params["Unrelated"] = "x"
        expected = [(table[m], f"name-{m}") for m in members if m in params]
        assert resources.named_in_request(source, params) == expected
