"""The AWS SigV4 test suite: canonical request, string to sign and signature, byte for byte."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from strongroom.auth import canonical_request, extract_claim, signing_key, string_to_sign, verify
from strongroom.auth.sigv4_claim import SigV4Claim

VECTORS = json.loads((Path(__file__).parent / "vectors" / "sigv4_suite.json").read_text("utf-8"))
CASES = [
    pytest.param(suite, case, id=case["name"])
    for suite in VECTORS["suites"]
    for case in suite["cases"]
]


def parse_raw_request(raw: str) -> tuple[str, str, str, dict[str, str], bytes]:
    """Split a ``.req`` file the way an HTTP server would hand it to the gateway."""
    head, _, body = raw.partition("\n\n")
    request_line, *header_lines = head.split("\n")
    method, _, rest = request_line.partition(" ")
    target = rest.rsplit(" ", 1)[0]  # drop the protocol version; the path may hold spaces
    path, _, query = target.partition("?")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        key, value = name.lower(), value.strip()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return method, path, query, headers, body.encode()


def _claim(case: dict[str, Any]) -> tuple[SigV4Claim, tuple[str, str, str, dict[str, str], bytes]]:
    method, path, query, headers, body = parse_raw_request(case["req"])
    headers["authorization"] = case["authz"]
    return extract_claim(method, path, query, headers), (method, path, query, headers, body)


def test_suite_has_at_least_ten_cases() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_vectors_are_self_consistent(suite: dict[str, Any], case: dict[str, Any]) -> None:
    """Guards the data file against copy errors, independently of the code under test."""
    assert hashlib.sha256(case["creq"].encode()).hexdigest() == case["sts"].rsplit("\n", 1)[1]
    key = ("AWS4" + suite["secret_access_key"]).encode()
    for part in (suite["timestamp"][:8], suite["region"], suite["service"], "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, case["sts"].encode(), hashlib.sha256).hexdigest()
    assert case["authz"].endswith(f"Signature={expected}")


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_canonical_request_matches(suite: dict[str, Any], case: dict[str, Any]) -> None:
    claim, request = _claim(case)
    assert canonical_request(claim, *request) == case["creq"]


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_string_to_sign_matches(suite: dict[str, Any], case: dict[str, Any]) -> None:
    claim, request = _claim(case)
    assert string_to_sign(claim, canonical_request(claim, *request)) == case["sts"]


@pytest.mark.parametrize(("suite", "case"), CASES)
def test_signature_verifies(suite: dict[str, Any], case: dict[str, Any]) -> None:
    claim, request = _claim(case)
    assert claim.access_key_id == suite["access_key_id"]
    assert claim.stamp == suite["timestamp"]
    verify(claim, *request, suite["secret_access_key"], claim.amz_date)


def test_signing_key_known_answer() -> None:
    # AWS's documented example: secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
    # scope 20150830/us-east-1/iam (also quoted in many public SigV4 test suites).
    key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830", "us-east-1", "iam")
    assert key.hex() == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
