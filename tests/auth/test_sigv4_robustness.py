"""Hostile input: the only exception a request can cause is AuthFailure."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom.auth import extract_claim, verify
from strongroom.auth.sigv4_canonical import canonical_query, canonical_uri
from strongroom.errors import AuthFailure

NOW = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
CRED = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"


def raw(data: bytes) -> str:
    """How the gateway turns raw path/query bytes into str."""
    return data.decode("utf-8", "surrogateescape")


def test_non_utf8_bytes_round_trip_into_the_canonical_forms() -> None:
    assert canonical_uri(raw(b"/a\xff/\xe2\x82\xac")) == "/a%FF/%E2%82%AC"
    assert canonical_query(raw(b"k\xfe=v\xff")) == "k%FE=v%FF"


def _run(method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> None:
    try:
        claim = extract_claim(method, path, query, headers)
        verify(claim, method, path, query, headers, body, "secret", NOW)
    except AuthFailure as failure:
        # Messages must be encodable for the response (no lone surrogates).
        failure.message.encode("utf-8")


_text = st.text(max_size=40)
_raw = st.binary(max_size=40).map(raw)
_fragments = st.sampled_from(
    [
        "AWS4-HMAC-SHA256",
        "AWS4-X",
        f"Credential={CRED}",
        "Credential=a/b/c/d/e",
        "SignedHeaders=host;x-amz-date",
        "SignedHeaders=",
        "Signature=00",
        "Signature=\u00e9",
        ",",
        " ",
        "=",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=AKID%2F20150830%2Fr%2Fs%2Faws4_request",
        "X-Amz-Date=20150830T123600Z",
        "X-Amz-Expires=99999999999999999999",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Signature=ab",
        "&",
        "%",
        "%zz",
        "+",
    ]
)
_composed = st.lists(st.one_of(_fragments, _text), max_size=8).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", ""]),
    path=st.one_of(_raw, _composed),
    query=st.one_of(_raw, _composed, st.lists(_composed, max_size=4).map("&".join)),
    authorization=st.one_of(st.none(), _composed),
    amz_date=st.one_of(st.none(), st.just("20150830T123600Z"), st.just("99991231T235959Z"), _text),
    date=st.one_of(st.none(), _text, st.just("Sun, 30 Aug 99999999 12:36:00 GMT")),
    extra=st.dictionaries(st.sampled_from(["host", "x-amz-content-sha256"]), _text),
    body=st.binary(max_size=16),
)
def test_arbitrary_requests_only_raise_auth_failure(
    method: str,
    path: str,
    query: str,
    authorization: str | None,
    amz_date: str | None,
    date: str | None,
    extra: dict[str, str],
    body: bytes,
) -> None:
    headers = dict(extra)
    for name, value in (("authorization", authorization), ("x-amz-date", amz_date), ("date", date)):
        if value is not None:
            headers[name] = value
    _run(method, path, query, headers, body)


VALID_AUTHZ = (
    f"AWS4-HMAC-SHA256 Credential={CRED}, SignedHeaders=host;x-amz-date, "
    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
)
VALID_HEADERS = {
    "host": "example.amazonaws.com",
    "x-amz-date": "20150830T123600Z",
    "authorization": VALID_AUTHZ,
}
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def test_valid_base_request_verifies() -> None:
    claim = extract_claim("GET", "/", "", VALID_HEADERS)
    verify(claim, "GET", "/", "", VALID_HEADERS, b"", SECRET, NOW)


@settings(max_examples=200, deadline=None)
@given(
    path=st.one_of(_raw, _composed).filter(lambda p: canonical_uri(p) != "/"),
    query=st.one_of(_raw, _composed),
    host=_text,
    content_sha=st.one_of(st.none(), _text, st.just("UNSIGNED-PAYLOAD")),
    body=st.binary(max_size=16),
)
def test_changes_to_a_signed_request_fail_cleanly(
    path: str, query: str, host: str, content_sha: str | None, body: bytes
) -> None:
    """Any other path (after normalization) must fail, and only with AuthFailure."""
    headers = {**VALID_HEADERS, "host": host}
    if content_sha is not None:
        headers["x-amz-content-sha256"] = content_sha
    try:
        claim = extract_claim("GET", path, query, VALID_HEADERS)
        verify(claim, "GET", path, query, headers, body, SECRET, NOW)
    except AuthFailure:
        return
    raise AssertionError("a changed path verified")
