"""What the HTTP front end believes and tells.

X-Forwarded-For is believed only from configured reverse proxies: the client
address is the audit trail's sourceIPAddress and what aws:SourceIp
conditions test, and uvicorn, left to its defaults, believes the header from
127.0.0.1, which would let any local process choose both. Responses do not
name the server software.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.live_server import LiveServer, run_cli, start_server

from strongroom.config import invalid_proxy_entries

_CLAIMED = "203.0.113.7"


def _source_of_forwarded_call(server: LiveServer) -> str:
    sts = server.client("sts")

    def claim(request: object, **_: object) -> None:
        request.headers["X-Forwarded-For"] = _CLAIMED  # type: ignore[attr-defined]

    sts.meta.events.register("before-send.sts.GetCallerIdentity", claim)
    request_id = sts.get_caller_identity()["ResponseMetadata"]["RequestId"]
    for event in server.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetCallerIdentity"}]
    )["Events"]:
        record = json.loads(event["CloudTrailEvent"])
        if record["requestID"] == request_id:
            return str(record["sourceIPAddress"])
    raise AssertionError(f"no event for request {request_id}")


def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        assert _source_of_forwarded_call(server) == "127.0.0.1"
    finally:
        server.stop()


def test_responses_do_not_name_the_server_software(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data")
    try:
        headers = server.client("sts").get_caller_identity()["ResponseMetadata"]["HTTPHeaders"]
        assert "server" not in headers
        assert "x-amzn-requestid" in headers
    finally:
        server.stop()


def test_forwarded_for_from_a_trusted_proxy_is_the_client(tmp_path: Path) -> None:
    server = start_server(tmp_path / "data", "--trusted-proxies", "127.0.0.1")
    try:
        assert _source_of_forwarded_call(server) == _CLAIMED
    finally:
        server.stop()


def test_a_trusted_proxy_that_is_not_an_address_is_refused(tmp_path: Path) -> None:
    refused = run_cli(
        "server",
        "--data-dir",
        str(tmp_path / "data"),
        "--port",
        "1",
        "--trusted-proxies",
        "127.0.0.1, 10.0.0.0/33, proxy.internal",
    )
    assert refused.returncode == 2
    output = refused.stdout + refused.stderr
    assert "'10.0.0.0/33', 'proxy.internal'" in output
    assert "Traceback" not in output


def test_trusted_proxy_lists_are_checked_entry_by_entry() -> None:
    assert invalid_proxy_entries("127.0.0.1,::1, 10.0.0.0/8,fd00::/8,*") == []
    assert invalid_proxy_entries("127.0.0.1,,localhost, 10.1.2.3/40") == [
        "localhost",
        "10.1.2.3/40",
    ]
