"""The calls the harness can benchmark, and how one of them is signed.

Each call is built once as a raw HTTP request (method, path, headers, body),
signed with botocore's SigV4 signer, and then replayed verbatim by wrk. A
SigV4 signature stays valid for the 15-minute clock-skew window and AWS has
no replay protection for these calls, so one signed request is a fair
stand-in for many clients sending the same call.

Calls that read something (Decrypt, GetParameter, GetSecretValue) first need
that something to exist: their ``setup`` creates it with boto3 on each
target, so both targets serve exactly the same workload.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

REGION = "us-east-1"


@dataclass(frozen=True)
class Endpoint:
    """A running server and the credentials that are valid on it."""

    name: str
    url: str  # http://127.0.0.1:PORT
    access_key_id: str
    secret_access_key: str
    # Replaces the HTTP round trip of setup clients (the in-process profiler
    # answers them from the pipeline directly); a botocore before-send hook.
    before_send: Callable[..., Any] | None = None

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1].rstrip("/")

    def client(self, service: str) -> Any:
        """A boto3 client for setup steps (never used under load)."""
        client = boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(retries={"max_attempts": 1}),
        )
        if self.before_send is not None:
            client.meta.events.register("before-send", self.before_send)
        return client


@dataclass(frozen=True)
class SignedRequest:
    """Exactly the bytes wrk will replay."""

    method: str
    url: str
    path: str
    headers: dict[str, str]
    body: bytes


# A call's setup returns the values its request body needs (a key id, ...).
Setup = Callable[[Endpoint], dict[str, str]]
Body = Callable[[Mapping[str, str]], tuple[dict[str, str], bytes]]


@dataclass(frozen=True)
class Call:
    name: str  # "sts:GetCallerIdentity"
    signing_service: str  # the SigV4 credential-scope service
    body: Body  # values from setup -> (protocol headers, body)
    expect: bytes  # a fragment every successful response body contains
    setup: Setup | None = None


def _no_setup(_: Endpoint) -> dict[str, str]:
    return {}


def _query(action: str, version: str) -> Body:
    """AWS Query protocol: a form-encoded POST to /."""

    def build(_: Mapping[str, str]) -> tuple[dict[str, str], bytes]:
        form = urlencode({"Action": action, "Version": version}).encode()
        return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, form

    return build


def _json11(target: str, payload: Callable[[Mapping[str, str]], dict[str, Any]]) -> Body:
    """AWS JSON 1.1 protocol: a POST to / naming the operation in X-Amz-Target."""

    def build(values: Mapping[str, str]) -> tuple[dict[str, str], bytes]:
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
        return headers, json.dumps(payload(values)).encode()

    return build


_PLAINTEXT = base64.b64encode(b"benchmark plaintext, 32 bytes!!!").decode()
_PARAMETER = "/strongroom-bench/parameter"
_SECURE_PARAMETER = "/strongroom-bench/secure-parameter"
_SECRET = "strongroom-bench/secret"


def _setup_key(endpoint: Endpoint) -> dict[str, str]:
    kms = endpoint.client("kms")
    key_id: str = kms.create_key(Description="strongroom benchmark")["KeyMetadata"]["KeyId"]
    return {"key_id": key_id}


def _setup_ciphertext(endpoint: Endpoint) -> dict[str, str]:
    values = _setup_key(endpoint)
    kms = endpoint.client("kms")
    blob: bytes = kms.encrypt(KeyId=values["key_id"], Plaintext=base64.b64decode(_PLAINTEXT))[
        "CiphertextBlob"
    ]
    values["ciphertext"] = base64.b64encode(blob).decode()
    return values


def _setup_parameter(endpoint: Endpoint) -> dict[str, str]:
    endpoint.client("ssm").put_parameter(
        Name=_PARAMETER, Value="benchmark value", Type="String", Overwrite=True
    )
    return {}


def _setup_secure_parameter(endpoint: Endpoint) -> dict[str, str]:
    # The default key (alias/aws/ssm): each read is a real KMS Decrypt on both
    # targets, which is what the "GetParameter with decryption" asks.
    endpoint.client("ssm").put_parameter(
        Name=_SECURE_PARAMETER, Value="benchmark secure value", Type="SecureString", Overwrite=True
    )
    return {}


def _setup_secret(endpoint: Endpoint) -> dict[str, str]:
    endpoint.client("secretsmanager").create_secret(
        Name=_SECRET, SecretString='{"user":"bench","password":"not-a-real-one"}'
    )
    return {}


CALLS: dict[str, Call] = {
    call.name: call
    for call in (
        Call(
            "sts:GetCallerIdentity",
            "sts",
            _query("GetCallerIdentity", "2011-06-15"),
            b"GetCallerIdentityResult",
        ),
        Call(
            "kms:Encrypt",
            "kms",
            _json11(
                "TrentService.Encrypt", lambda v: {"KeyId": v["key_id"], "Plaintext": _PLAINTEXT}
            ),
            b"CiphertextBlob",
            _setup_key,
        ),
        Call(
            "kms:Decrypt",
            "kms",
            _json11("TrentService.Decrypt", lambda v: {"CiphertextBlob": v["ciphertext"]}),
            b"Plaintext",
            _setup_ciphertext,
        ),
        Call(
            "kms:GenerateDataKey",
            "kms",
            _json11(
                "TrentService.GenerateDataKey",
                lambda v: {"KeyId": v["key_id"], "KeySpec": "AES_256"},
            ),
            b"CiphertextBlob",
            _setup_key,
        ),
        Call(
            "ssm:GetParameter",
            "ssm",
            _json11("AmazonSSM.GetParameter", lambda _: {"Name": _PARAMETER}),
            b"benchmark value",
            _setup_parameter,
        ),
        Call(
            "ssm:GetParameter-SecureString",
            "ssm",
            _json11(
                "AmazonSSM.GetParameter",
                lambda _: {"Name": _SECURE_PARAMETER, "WithDecryption": True},
            ),
            b"benchmark secure value",
            _setup_secure_parameter,
        ),
        Call(
            "secretsmanager:GetSecretValue",
            "secretsmanager",
            _json11("secretsmanager.GetSecretValue", lambda _: {"SecretId": _SECRET}),
            b"SecretString",
            _setup_secret,
        ),
    )
}


def setup(call: Call, endpoint: Endpoint) -> dict[str, str]:
    """Create what the call reads on ``endpoint``; returns what its body needs."""
    return (call.setup or _no_setup)(endpoint)


def signed(call: Call, endpoint: Endpoint, values: Mapping[str, str]) -> SignedRequest:
    """A freshly signed request (a new X-Amz-Date, so well inside the 15-minute window)."""
    protocol_headers, body = call.body(values)
    return sign(call.signing_service, endpoint, protocol_headers, body)


def prepare(call: Call, endpoint: Endpoint) -> SignedRequest:
    """Run the call's setup on ``endpoint`` and sign one request for it."""
    return signed(call, endpoint, setup(call, endpoint))


def sign(
    service: str, endpoint: Endpoint, protocol_headers: Mapping[str, str], body: bytes
) -> SignedRequest:
    """SigV4-sign a POST to / the way an SDK would (host, x-amz-date, protocol headers)."""
    url = endpoint.url.rstrip("/") + "/"
    request = AWSRequest(method="POST", url=url, data=body, headers=dict(protocol_headers))
    request.headers["Host"] = endpoint.host
    credentials = Credentials(endpoint.access_key_id, endpoint.secret_access_key)
    SigV4Auth(credentials, service, REGION).add_auth(request)
    headers = {name: str(value) for name, value in request.headers.items()}
    return SignedRequest("POST", url, "/", headers, body)
