"""extract_claim: what counts as missing, malformed or mis-scoped, with AWS's messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from strongroom.auth import check_scope, extract_claim
from strongroom.errors import AuthFailure, AuthFailureKind

SIG = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
CRED = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
AUTHZ = f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=host;x-amz-date, Signature={SIG}"
DATE = "20150830T123600Z"
BASE = {"host": "example.amazonaws.com", "x-amz-date": DATE}

PRESIGN_QUERY = (
    "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request"
    f"&X-Amz-Date={DATE}&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature={SIG}"
)


def failure(query: str = "", **headers: str) -> AuthFailure:
    with pytest.raises(AuthFailure) as raised:
        extract_claim("GET", "/", query, headers)
    return raised.value


def header_failure(authorization: str, **extra: str) -> AuthFailure:
    return failure(**{**BASE, "authorization": authorization, **extra})


# --- well-formed --------------------------------------------------------------------------


def test_header_claim() -> None:
    claim = extract_claim("GET", "/", "", {**BASE, "authorization": AUTHZ})
    assert claim.access_key_id == "AKIDEXAMPLE"
    assert (claim.date, claim.region, claim.service) == ("20150830", "us-east-1", "service")
    assert claim.signed_headers == ("host", "x-amz-date")
    assert claim.signature == SIG
    assert claim.amz_date == datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
    assert claim.stamp == DATE
    assert not claim.presigned and claim.expires_seconds is None and claim.security_token is None


@pytest.mark.parametrize(
    "authorization",
    [
        f"AWS4-HMAC-SHA256 Credential={CRED},SignedHeaders=host;x-amz-date,Signature={SIG}",
        f"AWS4-HMAC-SHA256 Credential={CRED} SignedHeaders=host;x-amz-date Signature={SIG}",
        f"  AWS4-HMAC-SHA256   Signature={SIG},  Credential={CRED}/ ,"
        "SignedHeaders=Host;X-Amz-Date ",
    ],
)
def test_header_separators_and_order_are_lenient(authorization: str) -> None:
    claim = extract_claim("GET", "/", "", {**BASE, "authorization": authorization})
    assert claim.signature == SIG and claim.signed_headers == ("host", "x-amz-date")
    assert claim.access_key_id == "AKIDEXAMPLE"


def test_date_header_is_used_without_x_amz_date() -> None:
    headers = {"host": "h", "date": "Sun, 30 Aug 2015 12:36:00 GMT", "authorization": AUTHZ}
    claim = extract_claim("GET", "/", "", headers)
    assert claim.stamp == DATE and claim.amz_date == datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


def test_session_token_from_header() -> None:
    headers = {**BASE, "authorization": AUTHZ, "x-amz-security-token": "tok+en/=="}
    assert extract_claim("GET", "/", "", headers).security_token == "tok+en/=="


def test_presigned_claim() -> None:
    query = PRESIGN_QUERY + "&X-Amz-Security-Token=a%2Bb%2F%3D%3D"
    claim = extract_claim("GET", "/", query, {"host": "sts.amazonaws.com"})
    assert claim.presigned and claim.expires_seconds == 900
    assert (claim.access_key_id, claim.service, claim.signature) == ("AKIDEXAMPLE", "sts", SIG)
    assert claim.signed_headers == ("host",)
    assert claim.security_token == "a+b/=="


def test_repr_hides_signature_and_token() -> None:
    headers = {**BASE, "authorization": AUTHZ, "x-amz-security-token": "SECRET-TOKEN"}
    text = repr(extract_claim("GET", "/", "", headers))
    assert SIG not in text and "SECRET-TOKEN" not in text and "AKIDEXAMPLE" in text


# --- MISSING ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        BASE,
        {**BASE, "authorization": "Bearer abc"},
        {**BASE, "authorization": "AWS AKIDEXAMPLE:c2lnbmF0dXJl"},  # SigV2
        {**BASE, "authorization": ""},
    ],
)
def test_missing_authentication(headers: dict[str, str]) -> None:
    with pytest.raises(AuthFailure) as raised:
        extract_claim("POST", "/", "Action=ListUsers", headers)
    assert raised.value.kind is AuthFailureKind.MISSING
    assert raised.value.message == "Request is missing Authentication Token"


# --- INCOMPLETE ---------------------------------------------------------------------------


def test_header_without_any_parameter_lists_them_all() -> None:
    got = failure(host="h", authorization="AWS4-HMAC-SHA256")
    assert got.kind is AuthFailureKind.INCOMPLETE
    assert got.message == (
        "Authorization header requires 'Credential' parameter. "
        "Authorization header requires 'Signature' parameter. "
        "Authorization header requires 'SignedHeaders' parameter. "
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
        "Authorization=AWS4-HMAC-SHA256"
    )


@pytest.mark.parametrize("name", ["Credential", "Signature", "SignedHeaders"])
def test_each_missing_header_parameter_is_named(name: str) -> None:
    parts = {"Credential": CRED, "SignedHeaders": "host;x-amz-date", "Signature": SIG}
    del parts[name]
    authorization = "AWS4-HMAC-SHA256 " + ", ".join(f"{k}={v}" for k, v in parts.items())
    got = header_failure(authorization)
    assert got.kind is AuthFailureKind.INCOMPLETE
    assert got.message == (
        f"Authorization header requires '{name}' parameter. Authorization={authorization}"
    )


def test_missing_equal_sign() -> None:
    got = header_failure(f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders, Signature={SIG}")
    assert got.kind is AuthFailureKind.INCOMPLETE
    assert got.message.startswith(
        "'SignedHeaders' not a valid key=value pair (missing equal-sign) in Authorization header:"
    )


def test_unsupported_algorithm() -> None:
    got = header_failure(AUTHZ.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"))
    assert got.kind is AuthFailureKind.INCOMPLETE
    assert got.message == (
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). "
    )


@pytest.mark.parametrize(
    "credential",
    ["AKIDEXAMPLE/20150830/us-east-1/service", "AKIDEXAMPLE/20150830/us-east-1/svc/aws4_request/x"],
)
def test_credential_needs_five_elements(credential: str) -> None:
    got = header_failure(AUTHZ.replace(CRED, credential))
    assert got.kind is AuthFailureKind.INCOMPLETE
    assert got.message == (
        "Credential must have exactly 5 slash-delimited elements, "
        f"e.g. keyid/date/region/service/term, got '{credential}'"
    )


@pytest.mark.parametrize(
    "value", ["2015-08-30T12:36:00Z", "20150830T1236Z", "20151330T123600Z", "2015083OT123600Z", "x"]
)
def test_bad_x_amz_date(value: str) -> None:
    got = header_failure(AUTHZ, **{"x-amz-date": value})
    assert got.kind is AuthFailureKind.INCOMPLETE
    assert got.message == (
        f"Date must be in ISO-8601 'basic format'. Got '{value}'. "
        "See http://en.wikipedia.org/wiki/ISO_8601"
    )


def test_bad_date_header() -> None:
    got = failure(host="h", date="yesterday", authorization=AUTHZ)
    assert got.kind is AuthFailureKind.INCOMPLETE and "Got 'yesterday'" in got.message


def test_presigned_query_missing_parameters() -> None:
    got = failure("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=" + DATE, host="h")
    assert got.kind is AuthFailureKind.INCOMPLETE
    assert got.message == (
        "AWS query-string parameters must include 'X-Amz-Credential'. "
        "AWS query-string parameters must include 'X-Amz-Signature'. "
        "AWS query-string parameters must include 'X-Amz-SignedHeaders'. "
        "Re-examine the query-string parameters."
    )


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("soon", "X-Amz-Expires should be a number"),
        ("-1", "X-Amz-Expires must be non-negative"),
        ("604801", "X-Amz-Expires must be less than a week (in seconds) that is 604800"),
    ],
)
def test_presigned_expires_is_validated(expires: str, message: str) -> None:
    got = failure(PRESIGN_QUERY.replace("X-Amz-Expires=900", f"X-Amz-Expires={expires}"), host="h")
    assert (got.kind, got.message) == (AuthFailureKind.INCOMPLETE, message)


def test_presigned_unsupported_algorithm() -> None:
    got = failure(PRESIGN_QUERY.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), host="h")
    assert got.kind is AuthFailureKind.INCOMPLETE and "Unsupported AWS 'algorithm'" in got.message


# --- mis-scoped (AWS answers these as signature failures) ---------------------------------


def test_wrong_terminator() -> None:
    got = header_failure(AUTHZ.replace("aws4_request", "aws5_request"))
    assert got.kind is AuthFailureKind.BAD_SIGNATURE
    assert got.message == (
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. "
    )


def test_scope_date_must_match_request_date() -> None:
    got = header_failure(AUTHZ, **{"x-amz-date": "20150831T000100Z"})
    assert got.kind is AuthFailureKind.BAD_SIGNATURE
    assert got.message == (
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
        "HTTP: '20150830' != '20150831', from '20150831T000100Z'."
    )


def test_header_and_query_auth_together() -> None:
    got = failure(PRESIGN_QUERY, **{**BASE, "authorization": AUTHZ})
    assert got.kind is AuthFailureKind.BAD_SIGNATURE
    assert got.message == (
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    )


def test_check_scope() -> None:
    claim = extract_claim("GET", "/", "", {**BASE, "authorization": AUTHZ})
    check_scope(claim, region="us-east-1", service="service")
    check_scope(claim, region=None, service=None)
    with pytest.raises(AuthFailure) as raised:
        check_scope(claim, region="eu-west-1", service="kms")
    assert raised.value.kind is AuthFailureKind.BAD_SIGNATURE
    assert raised.value.message == (
        "Credential should be scoped to a valid region. "
        "Credential should be scoped to correct service: 'kms'. "
    )
