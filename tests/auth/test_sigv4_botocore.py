"""Verification against requests signed by botocore's own SigV4 signers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import boto3
import pytest
from tests.auth.sigv4_wire import (
    ACCESS_KEY,
    NOW,
    SECRET_KEY,
    SESSION_TOKEN,
    Wire,
    frozen_botocore_clock,
    presign,
    sign,
    wire_from_prepared,
)

from strongroom.auth import verify
from strongroom.auth.sigv4 import (
    HOST_NOT_SIGNED,
    PAYLOAD_HASH_MISMATCH,
    SIGNATURE_MISMATCH,
    UNSIGNED_PAYLOAD_REFUSED,
)
from strongroom.errors import AuthFailure, AuthFailureKind

KMS_URL = "https://kms.us-east-1.amazonaws.com/"
KMS_HEADERS = {
    "Content-Type": "application/x-amz-json-1.1",
    "X-Amz-Target": "TrentService.Encrypt",
}
KMS_BODY = json.dumps({"KeyId": "alias/app", "Plaintext": "aGVsbG8="}).encode()


def fails(wire: Wire, kind: AuthFailureKind, **kwargs: Any) -> AuthFailure:
    with pytest.raises(AuthFailure) as raised:
        wire.verify(**kwargs)
    assert raised.value.kind is kind, raised.value.message
    return raised.value


@pytest.fixture
def kms_request() -> Wire:
    return sign("POST", KMS_URL, body=KMS_BODY, headers=KMS_HEADERS)


# --- requests that must verify ------------------------------------------------------------


def test_json_post_verifies_and_claim_reads_the_scope(kms_request: Wire) -> None:
    claim = kms_request.verify()
    assert claim.access_key_id == ACCESS_KEY
    assert (claim.date, claim.region, claim.service) == ("20240101", "us-east-1", "kms")
    assert "x-amz-target" in claim.signed_headers and "host" in claim.signed_headers
    assert claim.amz_date == NOW
    assert claim.security_token is None
    assert not claim.presigned and claim.expires_seconds is None


def test_query_protocol_form_post_verifies() -> None:
    wire = sign(
        "POST",
        "https://sts.amazonaws.com/",
        body="Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        service="sts",
    )
    assert wire.verify().service == "sts"


@pytest.mark.parametrize(
    "url",
    [
        "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
        "https://iam.amazonaws.com/?b=2&a=1&a=0&A=3",  # sort by name then value, case-sensitive
        "https://iam.amazonaws.com/?PathPrefix=%2Fdiv%20ision%2F&Marker=a%2Bb%3D&e=&flag",
        "https://iam.amazonaws.com/?n=%E2%82%AC-_.~&emoji=%F0%9F%94%91",  # UTF-8
    ],
)
def test_get_with_query_string_verifies(url: str) -> None:
    sign("GET", url, service="iam").verify()


def test_get_with_botocore_params_verifies() -> None:
    params = {"Action": "ListUsers", "PathPrefix": "/a b/+c/", "Marker": "x=y&z"}
    sign("GET", "https://iam.amazonaws.com/", params=params, service="iam").verify()


@pytest.mark.parametrize(
    "path",
    [
        "/a%20b/%E2%82%AC/c~d",
        "/keys/arn%3Aaws%3Akms%3Aus-east-1%3A111122223333%3Akey%2Fabc",
        "/p@t:h!$&'()*+,;=/x",
        "/dots/./and/../segments//double//",
        "/trailing/",
    ],
)
def test_paths_with_special_characters_verify(path: str) -> None:
    wire = sign("GET", "https://secretsmanager.us-east-1.amazonaws.com" + path, service="iam")
    assert wire.path == path.split("?")[0]
    wire.verify()


def test_session_token_is_claimed_and_signed() -> None:
    wire = sign("POST", KMS_URL, body=KMS_BODY, headers=KMS_HEADERS, token=SESSION_TOKEN)
    claim = wire.verify()
    assert claim.security_token == SESSION_TOKEN
    assert "x-amz-security-token" in claim.signed_headers
    fails(
        wire.with_headers(x_amz_security_token=SESSION_TOKEN + "x"), AuthFailureKind.BAD_SIGNATURE
    )


def test_date_header_instead_of_x_amz_date() -> None:
    wire = sign("POST", KMS_URL, body=KMS_BODY, headers={**KMS_HEADERS, "Date": "placeholder"})
    assert "x-amz-date" not in wire.headers
    claim = wire.verify()
    assert claim.amz_date == NOW and "date" in claim.signed_headers


def test_unsigned_payload() -> None:
    wire = sign("POST", KMS_URL, body=KMS_BODY, headers=KMS_HEADERS, payload_signing=False)
    assert wire.headers["x-amz-content-sha256"] == "UNSIGNED-PAYLOAD"
    wire.verify()
    # The body is then outside the signature: that is what UNSIGNED-PAYLOAD means...
    replace(wire, body=b"{}").verify()
    # ...so the gateway can refuse it (e.g. over plain HTTP).
    failure = fails(wire, AuthFailureKind.BAD_SIGNATURE, allow_unsigned_payload=False)
    assert failure.message == UNSIGNED_PAYLOAD_REFUSED


def test_declared_payload_hash_must_match_body() -> None:
    declared = hashlib.sha256(KMS_BODY).hexdigest()
    wire = sign(
        "POST", KMS_URL, body=KMS_BODY, headers={**KMS_HEADERS, "X-Amz-Content-SHA256": declared}
    )
    wire.verify()
    failure = fails(replace(wire, body=KMS_BODY + b" "), AuthFailureKind.BAD_SIGNATURE)
    assert failure.message == PAYLOAD_HASH_MISMATCH


# --- tampering ----------------------------------------------------------------------------


def test_tampered_body_fails(kms_request: Wire) -> None:
    body = bytearray(kms_request.body)
    body[5] ^= 1
    failure = fails(replace(kms_request, body=bytes(body)), AuthFailureKind.BAD_SIGNATURE)
    assert failure.message == SIGNATURE_MISMATCH


def test_tampered_signed_header_fails(kms_request: Wire) -> None:
    fails(
        kms_request.with_headers(x_amz_target="TrentService.Decrypt"), AuthFailureKind.BAD_SIGNATURE
    )


def test_unsigned_header_may_change(kms_request: Wire) -> None:
    kms_request.with_headers(user_agent="something else", x_forwarded_for="10.0.0.1").verify()


def test_whitespace_only_changes_in_header_values_still_verify(kms_request: Wire) -> None:
    target = kms_request.headers["x-amz-target"]
    kms_request.with_headers(x_amz_target=f"  {target}  ").verify()


def test_tampered_path_fails(kms_request: Wire) -> None:
    fails(replace(kms_request, path="/other"), AuthFailureKind.BAD_SIGNATURE)


def test_tampered_query_fails() -> None:
    wire = sign("GET", "https://iam.amazonaws.com/?Action=ListUsers&MaxItems=10", service="iam")
    fails(replace(wire, query="Action=ListUsers&MaxItems=11"), AuthFailureKind.BAD_SIGNATURE)
    fails(replace(wire, query=wire.query + "&Extra=1"), AuthFailureKind.BAD_SIGNATURE)


def test_tampered_method_fails() -> None:
    wire = sign("GET", "https://iam.amazonaws.com/?Action=ListUsers", service="iam")
    fails(replace(wire, method="DELETE"), AuthFailureKind.BAD_SIGNATURE)


def test_wrong_secret_fails(kms_request: Wire) -> None:
    fails(kms_request, AuthFailureKind.BAD_SIGNATURE, secret=SECRET_KEY[:-1] + "X")


def test_missing_signed_header_fails(kms_request: Wire) -> None:
    fails(kms_request.with_headers(x_amz_target=None), AuthFailureKind.BAD_SIGNATURE)


def test_host_must_be_signed(kms_request: Wire) -> None:
    authorization = kms_request.headers["authorization"].replace("host;", "")
    failure = fails(
        kms_request.with_headers(authorization=authorization), AuthFailureKind.BAD_SIGNATURE
    )
    assert failure.message == HOST_NOT_SIGNED


def test_forged_signature_fails_without_crashing(kms_request: Wire) -> None:
    authorization = kms_request.headers["authorization"]
    prefix = authorization.rsplit("Signature=", 1)[0]
    for forged in ("0" * 64, "é" * 64, "", "x"):
        wire = kms_request.with_headers(authorization=f"{prefix}Signature={forged}")
        if not forged:
            with pytest.raises(AuthFailure) as raised:
                wire.claim()
            assert raised.value.kind is AuthFailureKind.INCOMPLETE
            continue
        fails(wire, AuthFailureKind.BAD_SIGNATURE)


def test_claim_with_wrong_scope_date_fails_in_verify(kms_request: Wire) -> None:
    claim = replace(kms_request.claim(), date="20231231")
    with pytest.raises(AuthFailure) as raised:
        verify(
            claim, kms_request.method, kms_request.path, kms_request.query,
            kms_request.headers, kms_request.body, SECRET_KEY, NOW,
        )  # fmt: skip
    assert raised.value.kind is AuthFailureKind.BAD_SIGNATURE
    assert raised.value.message.startswith("Date in Credential scope does not match")


# --- clock skew ---------------------------------------------------------------------------


def test_fifteen_minutes_of_skew_is_tolerated(kms_request: Wire) -> None:
    kms_request.verify(now=NOW + timedelta(minutes=15))
    kms_request.verify(now=NOW - timedelta(minutes=15))


def test_signature_too_old(kms_request: Wire) -> None:
    failure = fails(kms_request, AuthFailureKind.REQUEST_EXPIRED, now=NOW + timedelta(minutes=16))
    assert failure.message == (
        "Signature expired: 20240101T001000Z is now earlier than 20240101T001100Z "
        "(20240101T002600Z - 15 min.)"
    )


def test_signature_from_the_future(kms_request: Wire) -> None:
    failure = fails(kms_request, AuthFailureKind.REQUEST_EXPIRED, now=NOW - timedelta(minutes=16))
    assert failure.message == (
        "Signature not yet current: 20240101T001000Z is still later than 20240101T000900Z "
        "(20231231T235400Z + 15 min.)"
    )


# --- presigned URLs -----------------------------------------------------------------------

STS_GET = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"


def test_presigned_url_verifies() -> None:
    wire = presign("GET", STS_GET, expires=300)
    assert "authorization" not in wire.headers
    claim = wire.verify()
    assert claim.presigned and claim.expires_seconds == 300
    assert (claim.access_key_id, claim.service) == (ACCESS_KEY, "sts")
    wire.verify(now=NOW + timedelta(seconds=300))


def test_presigned_url_with_session_token() -> None:
    wire = presign("GET", STS_GET, token=SESSION_TOKEN)
    assert wire.verify().security_token == SESSION_TOKEN


def test_presigned_url_expires() -> None:
    wire = presign("GET", STS_GET, expires=300)
    failure = fails(wire, AuthFailureKind.REQUEST_EXPIRED, now=NOW + timedelta(seconds=301))
    assert failure.message == "Request has expired"


def test_presigned_url_not_yet_valid() -> None:
    wire = presign("GET", STS_GET, at=NOW + timedelta(minutes=16))
    failure = fails(wire, AuthFailureKind.REQUEST_EXPIRED)
    assert failure.message.startswith("Signature not yet current:")


def test_presigned_url_long_lived_within_a_week() -> None:
    wire = presign("GET", STS_GET, expires=604800)
    wire.verify(now=NOW + timedelta(days=6))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda q: q.replace("Version=2011-06-15", "Version=2011-06-16"),
        lambda q: q.replace("X-Amz-Expires=900", "X-Amz-Expires=901"),
        lambda q: q + "&Extra=1",
    ],
)
def test_presigned_url_tampered_query_fails(tamper: Any) -> None:
    wire = presign("GET", STS_GET)
    fails(replace(wire, query=tamper(wire.query)), AuthFailureKind.BAD_SIGNATURE)


def test_presigned_url_wrong_secret_fails() -> None:
    fails(presign("GET", STS_GET), AuthFailureKind.BAD_SIGNATURE, secret="not-the-secret")


# --- real clients -------------------------------------------------------------------------


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


@pytest.mark.parametrize(
    ("service", "call"),
    [
        ("kms", lambda c: c.encrypt(KeyId="alias/app", Plaintext=b"\x00secret\xff")),
        ("sts", lambda c: c.get_caller_identity()),
        ("ssm", lambda c: c.get_parameter(Name="/app/db/password", WithDecryption=True)),
        ("iam", lambda c: c.list_users(PathPrefix="/div/")),
    ],
)
def test_boto3_client_requests_verify(service: str, call: Any) -> None:
    client = boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url="http://localhost:4566",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
    )
    client.meta.events.register("before-send", _capture)
    with frozen_botocore_clock(NOW), pytest.raises(_Captured) as captured:
        call(client)
    wire = wire_from_prepared(captured.value.request)
    claim = wire.verify()
    assert claim.service == service and claim.security_token == SESSION_TOKEN
    fails(replace(wire, body=wire.body + b" "), AuthFailureKind.BAD_SIGNATURE)
