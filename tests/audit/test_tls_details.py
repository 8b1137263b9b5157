"""``tlsDetails`` of events served over TLS: version, cipher suite, Host header.

CloudTrail's ``tlsDetails`` (record contents reference): ``tlsVersion``
("TLSv1.2"), ``cipherSuite`` (OpenSSL's name, "ECDHE-RSA-AES128-GCM-SHA256";
TLS 1.3 suites by their IANA names) and ``clientProvidedHostHeader``.
``strongroom server``'s HTTP protocol reads them from the connection's TLS
object (gateway/http_server.py); under another ASGI server the gateway reads
the ASGI TLS extension. Checked against what the client's own socket
negotiated.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import ssl
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from tests.support.live_server import STRONGROOM, LiveServer, free_port
from tests.support.tls import self_signed_cert

from strongroom.gateway.asgi import _tls_extension
from strongroom.gateway.http_server import tls_names

QUERY = "application/x-www-form-urlencoded; charset=utf-8"


@dataclass
class TlsServer:
    live: LiveServer
    cert: Path

    @property
    def host(self) -> str:
        return f"localhost:{self.live.port}"


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    base = tmp_path_factory.mktemp("tls-audit")
    cert, key = self_signed_cert(base)
    port = free_port()
    data_dir = base / "data"
    data_dir.mkdir()
    log_path = data_dir / "server.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                *(STRONGROOM, "server", "--port", str(port), "--data-dir", str(data_dir)),
                *("--tls-cert", str(cert), "--tls-key", str(key)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    live = LiveServer(data_dir, port, process, log_path)
    context = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 60
    while True:
        try:
            url = f"https://localhost:{port}/_strongroom/health"
            with urllib.request.urlopen(url, context=context, timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                live.stop()
                raise RuntimeError(log_path.read_text()) from None
            time.sleep(0.2)
    yield TlsServer(live, cert)
    live.stop()


def signed_call(
    server: TlsServer, context: ssl.SSLContext, service: str, body: bytes, **headers: str
) -> tuple[int, bytes, dict[str, str], tuple[str, str, int]]:
    """One signed POST over its own TLS connection: status, body, headers and
    the (cipher, version, bits) the client negotiated."""
    url = f"https://{server.host}/"
    req = AWSRequest(method="POST", url=url, data=body, headers=headers)
    SigV4Auth(Credentials(*server.live.admin_credentials()), service, "us-east-1").add_auth(req)
    conn = http.client.HTTPSConnection(server.host, context=context, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
        response = conn.getresponse()
        payload = response.read()
        assert conn.sock is not None
        negotiated = conn.sock.cipher()
        assert negotiated is not None
        headers = {k.lower(): v for k, v in response.getheaders()}
        return response.status, payload, headers, negotiated
    finally:
        conn.close()


def client_context(
    server: TlsServer, *, max_version: ssl.TLSVersion | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(server.cert))
    if max_version is not None:
        context.maximum_version = max_version
    return context


def event_of(server: TlsServer, request_id: str) -> dict[str, Any]:
    """The event of ``request_id``, through LookupEvents over TLS."""
    context = client_context(server)
    for _ in range(50):
        body = json.dumps({"MaxResults": 50}).encode()
        status, payload, _, _ = signed_call(
            server,
            context,
            "cloudtrail",
            body,
            **{
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101."
                "CloudTrail_20131101.LookupEvents",
            },
        )
        assert status == 200, payload
        for event in json.loads(payload)["Events"]:
            record: dict[str, Any] = json.loads(event["CloudTrailEvent"])
            if record["requestID"] == request_id:
                return record
        time.sleep(0.1)
    raise AssertionError(f"no event for request {request_id}")


def caller_identity(server: TlsServer, context: ssl.SSLContext) -> tuple[str, tuple[str, str, int]]:
    status, payload, headers, negotiated = signed_call(
        server,
        context,
        "sts",
        b"Action=GetCallerIdentity&Version=2011-06-15",
        **{"Content-Type": QUERY, "User-Agent": f"tls-test-{uuid.uuid4().hex}"},
    )
    assert status == 200, payload
    return headers["x-amzn-requestid"], negotiated


def test_tls13_details(tls_server: TlsServer) -> None:
    request_id, (cipher, version, _) = caller_identity(tls_server, client_context(tls_server))
    assert version == "TLSv1.3"
    record = event_of(tls_server, request_id)
    assert record["tlsDetails"] == {
        "tlsVersion": "TLSv1.3",
        "cipherSuite": cipher,  # e.g. TLS_AES_256_GCM_SHA384
        "clientProvidedHostHeader": tls_server.host,
    }


def test_tls12_details_use_openssl_cipher_names(tls_server: TlsServer) -> None:
    context = client_context(tls_server, max_version=ssl.TLSVersion.TLSv1_2)
    request_id, (cipher, version, _) = caller_identity(tls_server, context)
    assert version == "TLSv1.2"
    assert cipher.startswith("ECDHE-ECDSA-")  # the certificate is an EC key
    details = event_of(tls_server, request_id)["tlsDetails"]
    assert details["tlsVersion"] == "TLSv1.2"
    assert details["cipherSuite"] == cipher
    assert details["clientProvidedHostHeader"] == tls_server.host


def test_plain_http_has_no_tls_details(server: LiveServer) -> None:
    response = server.client("sts").get_caller_identity()
    request_id = response["ResponseMetadata"]["RequestId"]
    events = server.client("cloudtrail").lookup_events(MaxResults=50)["Events"]
    [record] = [
        r
        for r in (json.loads(e["CloudTrailEvent"]) for e in events)
        if r["requestID"] == request_id
    ]
    assert "tlsDetails" not in record


def test_extension_to_names() -> None:
    tls = {"tls_version": 0x0303, "cipher_suite": 0xC02F}
    assert _tls_extension({"extensions": {"tls": tls}}) == (
        "TLSv1.2",
        "ECDHE-RSA-AES128-GCM-SHA256",
    )
    assert _tls_extension(
        {"extensions": {"tls": {"tls_version": 0x0304, "cipher_suite": 0x1301}}}
    ) == (
        "TLSv1.3",
        "TLS_AES_128_GCM_SHA256",
    )
    # A code OpenSSL does not know is kept, in hex; missing members are empty.
    assert _tls_extension({"extensions": {"tls": {"cipher_suite": 0xFEFE}}}) == ("", "0xFEFE")
    assert _tls_extension({"type": "http"}) == ("", "")
    assert _tls_extension({"extensions": {}}) == ("", "")


def test_names_from_an_ssl_object(tmp_path: Path) -> None:
    """The server side of a real (in-memory) handshake, as the transport holds it."""
    cert, key = self_signed_cert(tmp_path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    client_ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname="localhost")
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):  # pump the handshake between the two ends
        for end in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                end.do_handshake()
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    name = server.cipher()[0]  # type: ignore[index]
    assert tls_names(server) == ("TLSv1.2", name)
    assert name.startswith("ECDHE-")  # OpenSSL's name, as CloudTrail shows it
