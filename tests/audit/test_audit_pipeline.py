"""The gateway records every request, and fails closed when it cannot.

In-process: a real platform on a temporary SQLite store, requests signed by
botocore and fed to the pipeline (synchronous path, thread writer) or to
the ASGI app (asynchronous path, writer process).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strongroom.audit.log import LookupQuery, RowKind
from strongroom.audit.writer import FLUSH_AFTER_TURNS
from strongroom.bootstrap import open_platform
from strongroom.config import Settings
from strongroom.gateway.asgi import Gateway
from strongroom.gateway.pipeline import Pipeline
from strongroom.gateway.request import HttpRequest, HttpResponse
from strongroom.platform import Platform

ACCOUNT = "000000000000"
QUERY = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    p = open_platform(Settings(data_dir=tmp_path, audit_writer="thread"))
    yield p
    p.close()


def admin(platform: Platform) -> tuple[str, str]:
    created = platform.identities.ensure_account(ACCOUNT, "default")
    assert created is not None
    return created


def signed(
    creds: tuple[str, str], service: str, body: bytes, headers: dict[str, str]
) -> HttpRequest:
    req = AWSRequest(method="POST", url="http://127.0.0.1:8700/", data=body, headers=headers)
    SigV4Auth(Credentials(*creds), service, "us-east-1").add_auth(req)
    out = {k.lower(): v for k, v in req.headers.items()}
    out["host"] = "127.0.0.1:8700"
    return HttpRequest("POST", "/", "", out, body, client_ip="203.0.113.9")


def iam(creds: tuple[str, str], form: str) -> HttpRequest:
    return signed(creds, "iam", f"{form}&Version=2010-05-08".encode(), {"Content-Type": QUERY})


def sts(creds: tuple[str, str]) -> HttpRequest:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    return signed(creds, "sts", body, {"Content-Type": QUERY})


def events(platform: Platform) -> list[dict[str, Any]]:
    assert platform.audit is not None
    found = platform.audit.lookup(LookupQuery(None, None, limit=1000))
    return [e.record for e in reversed(found)]  # oldest first


def test_every_request_leaves_one_event(platform: Platform) -> None:
    creds = admin(platform)
    pipeline = Pipeline(platform)
    responses = [
        pipeline.handle(sts(creds)),  # success
        pipeline.handle(iam(creds, "Action=CreateUser&UserName=carol")),  # mutating success
        pipeline.handle(iam(creds, "Action=CreateUser")),  # malformed: UserName missing
        pipeline.handle(sts((creds[0], "wrong-secret"))),  # bad signature
        pipeline.handle(iam(creds, "Action=NoSuchThing")),  # unknown operation
        pipeline.handle(HttpRequest("POST", "/", "", {"content-type": QUERY}, b"\xff\x00junk")),
    ]
    assert [r.status for r in responses][:2] == [200, 200]
    recorded = events(platform)
    assert len(recorded) == len(responses)
    assert [r.get("errorCode") for r in recorded] == [
        None,
        None,
        "ValidationError",
        "SignatureDoesNotMatch",
        "InvalidAction",
        "MalformedQueryString",
    ]
    # Each event carries the request id its response carried.
    for response, record in zip(responses, recorded, strict=True):
        assert dict(response.headers)["x-amzn-requestid"] == record["requestID"]
    assert recorded[3]["userIdentity"] == {
        "type": "Unknown",
        "accountId": ACCOUNT,
        "accessKeyId": creds[0],
    }
    assert recorded[4]["eventName"] == "NoSuchThing"
    assert recorded[5]["userIdentity"] == {"type": "Unknown"}
    assert all(r["sourceIPAddress"] == "203.0.113.9" for r in recorded[:5])


def test_denied_calls_are_recorded(platform: Platform) -> None:
    creds = admin(platform)
    pipeline = Pipeline(platform)
    pipeline.handle(iam(creds, "Action=CreateUser&UserName=dave"))
    key = pipeline.handle(iam(creds, "Action=CreateAccessKey&UserName=dave"))
    body = key.body.decode()
    dave = (
        body.split("<AccessKeyId>")[1].split("<")[0],
        body.split("<SecretAccessKey>")[1].split("<")[0],
    )
    denied = pipeline.handle(iam(dave, "Action=CreateUser&UserName=eve"))
    assert denied.status == 403
    record = events(platform)[-1]
    assert record["errorCode"] == "AccessDenied"
    assert record["userIdentity"]["userName"] == "dave"
    assert record["requestParameters"] == {"userName": "eve"}
    # The secret of the key created above is not in its event.
    created = events(platform)[-2]
    assert (
        created["responseElements"]["accessKey"]["secretAccessKey"]
        == "HIDDEN_DUE_TO_SECURITY_REASONS"
    )
    assert dave[1] not in json.dumps(events(platform))


def failing(platform: Platform, kinds: set[RowKind]) -> None:
    """Make the audit log refuse rows of ``kinds`` (the database is full...)."""
    assert platform.audit is not None
    log = platform.audit.log
    real = log.append

    def append(rows: Any, recorded_at_us: int) -> Any:
        if any(r.kind in kinds for r in rows):
            raise OSError("disk full")
        return real(rows, recorded_at_us)

    log.append = append  # type: ignore[method-assign]


def test_no_side_effect_without_a_request_entry(platform: Platform) -> None:
    creds = admin(platform)
    pipeline = Pipeline(platform)
    failing(platform, {RowKind.INTENT})
    response = pipeline.handle(iam(creds, "Action=CreateUser&UserName=frank"))
    assert response.status == 503 and b"ServiceUnavailable" in response.body
    users = platform.identities.read().get(ACCOUNT, "user", "frank")
    assert users is None  # the operation never ran
    assert pipeline.handle(sts(creds)).status == 200  # reads need no request entry


def test_no_response_without_its_event(platform: Platform) -> None:
    creds = admin(platform)
    pipeline = Pipeline(platform)
    failing(platform, {RowKind.EVENT})
    read = pipeline.handle(sts(creds))
    assert read.status == 500 and b"InternalFailure" in read.body
    assert b"GetCallerIdentityResult" not in read.body  # the result is withheld
    write = pipeline.handle(iam(creds, "Action=CreateUser&UserName=grace"))
    assert write.status == 500
    # The user may exist (the operation ran) but its request entry is
    # durable: recovery records it with an unknown outcome.
    assert platform.identities.read().get(ACCOUNT, "user", "grace") is not None
    assert platform.audit is not None
    log = platform.audit.log
    log.append = type(log).append.__get__(log)  # type: ignore[method-assign]
    later = platform.clock() + timedelta(minutes=6)
    assert platform.audit.recover_abandoned(later) == 1
    [record] = [r for r in events(platform) if r["eventName"] == "CreateUser"]
    assert record["errorCode"] == "Strongroom:OutcomeUnknown"
    assert record["requestParameters"] == {"userName": "grace"}


def test_key_last_use_is_noted_only_for_audited_requests(platform: Platform) -> None:
    creds = admin(platform)
    pipeline = Pipeline(platform)
    failing(platform, {RowKind.EVENT})
    pipeline.handle(sts(creds))
    assert platform.identities.read().key_last_used(creds[0]) is None


def call(app: Gateway, req: HttpRequest) -> HttpResponse:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": req.body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": req.method,
        "path": req.path,
        "raw_path": req.path.encode(),
        "query_string": b"",
        "headers": [(k.encode(), v.encode()) for k, v in req.headers.items()],
        "client": ("127.0.0.1", 1),
        "scheme": "http",
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return HttpResponse(start["status"], body)


def test_async_path_through_the_writer_process(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, audit_writer="process")
    app = Gateway(settings)
    platform = app.platform
    try:
        creds = admin(platform)
        assert call(app, sts(creds)).status == 200
        assert call(app, iam(creds, "Action=CreateUser&UserName=heidi")).status == 200
        names = [r["eventName"] for r in events(platform)]
        assert names == ["GetCallerIdentity", "CreateUser"]
        writer = platform.audit.async_writer  # type: ignore[union-attr]
        assert writer is not None and writer._proc is not None
        os.kill(writer._proc.pid, signal.SIGKILL)  # the writer dies
        writer._proc.wait()
        failed = call(app, sts(creds))
        assert failed.status == 500  # nothing is answered unrecorded
        time.sleep(1.1)  # then a new writer process is started
        assert call(app, sts(creds)).status == 200
        assert [r["eventName"] for r in events(platform)][-1] == "GetCallerIdentity"
    finally:
        platform.close()


def test_oversized_bodies_are_recorded(tmp_path: Path) -> None:
    app = Gateway(Settings(data_dir=tmp_path, audit_writer="thread", max_body_bytes=100))
    platform = app.platform
    try:
        creds = admin(platform)
        req = iam(creds, "Action=CreateUser&UserName=" + "x" * 200)
        assert call(app, req).status == 413
        [record] = events(platform)
        assert record["errorCode"] == "RequestEntityTooLarge"
        assert record["userIdentity"] == {
            "type": "Unknown",
            "accountId": ACCOUNT,
            "accessKeyId": creds[0],
        }
    finally:
        platform.close()


def later(rows: list[Any]) -> Callable[[], list[Any]]:
    """A request's row builder (the writer calls it when it takes the batch)."""
    return lambda: rows


@pytest.fixture
def process_writer(tmp_path: Path) -> Iterator[Any]:
    """The writer process's parent end, on a platform of its own."""
    platform = open_platform(Settings(data_dir=tmp_path, audit_writer="process"))
    writer = platform.audit.async_writer  # type: ignore[union-attr]
    assert writer is not None
    yield writer
    platform.close()


def test_the_writer_process_fails_only_the_request_whose_rows_cannot_be_built(
    process_writer: Any, make_row: Any
) -> None:
    writer = process_writer

    def broken() -> list[Any]:
        raise ValueError("a bug in a record")

    async def one_turn() -> list[bool]:
        futures = [
            writer.submit(later([make_row()])),
            writer.submit(lambda: None),
            writer.submit(broken),
            writer.submit(later([make_row()])),
        ]
        return [bool(r) for r in await asyncio.wait_for(asyncio.gather(*futures), 10)]

    assert asyncio.run(one_turn()) == [True, False, False, True]
    assert writer.batches == 1 and writer.rows == 2


def test_the_writer_process_gets_the_requests_of_the_next_turns_in_one_batch(
    process_writer: Any, make_row: Any
) -> None:
    writer = process_writer

    async def one_per_turn() -> list[bool]:
        futures = []
        for _ in range(FLUSH_AFTER_TURNS):
            futures.append(writer.submit(later([make_row()])))
            await asyncio.sleep(0)  # one turn of the loop
        return [bool(r) for r in await asyncio.wait_for(asyncio.gather(*futures), 10)]

    assert asyncio.run(one_per_turn()) == [True] * FLUSH_AFTER_TURNS
    assert writer.batches == 1 and writer.rows == FLUSH_AFTER_TURNS


def test_an_event_that_cannot_be_built_withholds_its_response(tmp_path: Path) -> None:
    app = Gateway(Settings(data_dir=tmp_path))  # SQLite: the inline writer
    platform = app.platform
    try:
        creds = admin(platform)
        trail = platform.audit
        assert trail is not None and trail.async_writer is not None

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise ValueError("a bug in a record")

        trail.event_rows = broken  # type: ignore[method-assign]
        failed = call(app, sts(creds))
        assert failed.status == 500 and b"GetCallerIdentityResult" not in failed.body
        del trail.event_rows
        assert call(app, sts(creds)).status == 200
    finally:
        platform.close()


def test_the_writer_process_serves_a_new_loop_after_one_ended_mid_batch(
    process_writer: Any, make_row: Any
) -> None:
    # A loop that ends between a submit and its next turn never sends the
    # batch it scheduled; the next loop's requests must not wait for it.
    writer = process_writer
    loop = asyncio.new_event_loop()
    submitted: list[Any] = []

    def submit_then_stop() -> None:
        submitted.append(writer.submit(later([make_row()])))
        loop.stop()  # the send it scheduled would run in the next turn

    loop.call_soon(submit_then_stop)
    loop.run_forever()
    loop.close()

    async def next_request() -> bool:
        return bool(await asyncio.wait_for(writer.submit(later([make_row()])), timeout=10))

    assert asyncio.run(next_request()) is True
