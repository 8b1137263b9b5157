"""Test helpers: sign requests the way botocore does, present them as a server receives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials

from strongroom.auth import SigV4Claim, extract_claim, verify

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/token+with=="
NOW = datetime(2024, 1, 1, 0, 10, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Wire:
    """A request as the gateway hands it over: raw path and query, lower-cased headers."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def with_headers(self, **changes: str | None) -> Wire:
        headers = dict(self.headers)
        for name, value in changes.items():
            name = name.replace("_", "-")
            if value is None:
                headers.pop(name, None)
            else:
                headers[name] = value
        return replace(self, headers=headers)

    def claim(self) -> SigV4Claim:
        return extract_claim(self.method, self.path, self.query, self.headers)

    def verify(
        self, *, secret: str = SECRET_KEY, now: datetime = NOW, **kwargs: bool
    ) -> SigV4Claim:
        claim = self.claim()
        verify(
            claim, self.method, self.path, self.query, self.headers, self.body, secret, now,
            **kwargs,
        )  # fmt: skip
        return claim


def wire_from_prepared(prepared: AWSPreparedRequest | AWSRequest) -> Wire:
    if isinstance(prepared, AWSRequest):
        prepared = prepared.prepare()
    parts = urlsplit(prepared.url)
    headers: dict[str, str] = {}
    for name, value in prepared.headers.items():
        text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
        headers[name.lower()] = text
    # What urllib3 sends as Host: the netloc (botocore signs the same value).
    headers.setdefault("host", parts.netloc)
    body = prepared.body or b""
    if isinstance(body, str):
        body = body.encode()
    return Wire(prepared.method, parts.path or "/", parts.query, headers, body)


def frozen_botocore_clock(at: datetime) -> Any:
    """Patch botocore's clock so signatures are made at ``at``."""
    naive = at.astimezone(UTC).replace(tzinfo=None)
    return mock.patch("botocore.auth.get_current_datetime", return_value=naive)


def sign(
    method: str,
    url: str,
    *,
    body: bytes | str = b"",
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    token: str | None = None,
    service: str = "kms",
    region: str = "us-east-1",
    at: datetime = NOW,
    payload_signing: bool = True,
) -> Wire:
    """Sign with botocore's SigV4Auth (Authorization header)."""
    request = AWSRequest(
        method=method, url=url, data=body, headers=dict(headers or {}), params=params or {}
    )
    if not payload_signing:
        request.context["payload_signing_enabled"] = False
    with frozen_botocore_clock(at):
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), service, region).add_auth(request)
    return wire_from_prepared(request)


def presign(
    method: str,
    url: str,
    *,
    expires: int = 900,
    token: str | None = None,
    service: str = "sts",
    region: str = "us-east-1",
    at: datetime = NOW,
) -> Wire:
    """Sign with botocore's SigV4QueryAuth (presigned URL)."""
    request = AWSRequest(method=method, url=url)
    with frozen_botocore_clock(at):
        SigV4QueryAuth(
            Credentials(ACCESS_KEY, SECRET_KEY, token), service, region, expires=expires
        ).add_auth(request)
    return wire_from_prepared(request)
