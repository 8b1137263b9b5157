"""The HTTP rotator (signed step events to an endpoint) and the Python entry-point
rotator, driven through RotateSecret and the rotation job."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.services.secretsmanager.rotation_support import register
from tests.services.secretsmanager.sm_support import ACCOUNT, SmEnv

from strongroom.errors import ServiceError
from strongroom.rotators.http import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify_signature
from strongroom.rotators.python import load_entry_point
from strongroom.rotators.registry import RotatorRecord, RotatorRegistry, parse_arn

KEY = bytes(range(32))


class Endpoint:
    """A rotation endpoint that authenticates Strongroom and does the steps itself,
    through the Secrets Manager API (here: in-process calls as the account admin)."""

    def __init__(self, sm: SmEnv) -> None:
        self.sm = sm
        self.steps: list[str] = []
        self.fail_step: str | None = None
        self.rejected = 0

    def handle(self, headers: Any, body: bytes) -> int:
        if not verify_signature(KEY, headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER]):
            self.rejected += 1
            return 401
        event = json.loads(body)
        step, arn, token = event["Step"], event["SecretId"], event["ClientRequestToken"]
        self.steps.append(step)
        if step == self.fail_step:
            return 500
        if step == "createSecret":
            try:
                self.sm.value(arn, VersionId=token, VersionStage="AWSPENDING")
            except ServiceError:
                current = self.sm.value(arn)["SecretString"]
                self.sm.call(
                    "PutSecretValue",
                    SecretId=arn,
                    ClientRequestToken=token,
                    SecretString=current + "#",
                    VersionStages=["AWSPENDING"],
                )
        elif step == "finishSecret":
            holder = self.sm.value(arn)["VersionId"]
            self.sm.call(
                "UpdateSecretVersionStage",
                SecretId=arn,
                VersionStage="AWSCURRENT",
                MoveToVersionId=token,
                RemoveFromVersionId=holder,
            )
        return 200


@pytest.fixture()
def endpoint(sm: SmEnv) -> Iterator[tuple[Endpoint, str]]:
    target = Endpoint(sm)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = target.handle(self.headers, body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield target, f"http://127.0.0.1:{server.server_address[1]}/rotate"
    finally:
        server.shutdown()
        server.server_close()


def _http_rotator(sm: SmEnv, url: str, key: bytes = KEY) -> str:
    record = RotatorRecord(
        "hook",
        ACCOUNT,
        "us-east-1",
        "http",
        "2024-05-01",
        {"url": url, "hmac_key": key.hex(), "timeout": 5},
    )
    RotatorRegistry(sm.store).put(record)
    return record.arn


def test_http_rotator_runs_the_four_signed_steps(sm: SmEnv, endpoint: tuple[Endpoint, str]) -> None:
    target, url = endpoint
    sm.secret("h", "pw")
    arn = _http_rotator(sm, url)
    sm.call("RotateSecret", SecretId="h", RotationLambdaARN=arn)
    assert sm.sm.rotate_due(sm.clock.now) == 1
    assert target.steps == ["createSecret", "setSecret", "testSecret", "finishSecret"]
    assert sm.value("h")["SecretString"] == "pw#"
    assert sm.event_names()[-1] == "RotationSucceeded"


def test_http_rotator_failure_and_bad_key(sm: SmEnv, endpoint: tuple[Endpoint, str]) -> None:
    target, url = endpoint
    sm.secret("h", "pw")
    target.fail_step = "testSecret"
    arn = _http_rotator(sm, url)
    sm.call("RotateSecret", SecretId="h", RotationLambdaARN=arn)
    sm.sm.rotate_due(sm.clock.now)
    failed = sm.events()[-1]["detail"]
    assert failed["eventName"] == "RotationFailed"
    assert failed["additionalEventData"]["Step"] == "testSecret"
    assert "500" in failed["errorMessage"]
    assert sm.value("h")["SecretString"] == "pw"
    # A rotator registered with another key is refused by the endpoint.
    target.fail_step = None
    _http_rotator(sm, url, key=b"\x01" * 32)
    sm.clock.advance(61)
    sm.sm.rotate_due(sm.clock.now)
    assert target.rejected == 1
    assert sm.events()[-1]["detail"]["errorMessage"].endswith("answered 401 to createSecret.")


def test_http_rotator_unreachable(sm: SmEnv) -> None:
    sm.secret("h", "pw")
    arn = _http_rotator(sm, "http://127.0.0.1:9/nothing")
    sm.call("RotateSecret", SecretId="h", RotationLambdaARN=arn)
    sm.sm.rotate_due(sm.clock.now)
    assert "could not be reached" in sm.events()[-1]["detail"]["errorMessage"]


def test_signature_verification() -> None:
    body = b'{"Step":"createSecret"}'
    now = time.time()
    stamp = str(int(now))
    good = sign(KEY, stamp, body)
    assert good.startswith("v1=") and len(good) == 3 + 64
    assert verify_signature(KEY, stamp, body, good, now=now)
    assert not verify_signature(KEY, stamp, body + b" ", good, now=now)
    assert not verify_signature(b"other-key-000000", stamp, body, good, now=now)
    assert not verify_signature(KEY, stamp, body, good, now=now + 600)
    assert not verify_signature(KEY, "not-a-time", body, good, now=now)


def test_python_rotator_that_cannot_load(sm: SmEnv) -> None:
    sm.secret("p", "pw")
    record = RotatorRecord(
        "broken",
        ACCOUNT,
        "us-east-1",
        "python",
        "2024-05-01",
        {"entry_point": "no_such_module_x:f"},
    )
    RotatorRegistry(sm.store).put(record)
    sm.call("RotateSecret", SecretId="p", RotationLambdaARN=record.arn)
    sm.sm.rotate_due(sm.clock.now)
    failed = sm.events()[-1]["detail"]
    assert failed["additionalEventData"]["Step"] == "createSecret"
    assert "Cannot load" in failed["errorMessage"]


def test_python_rotator_gets_a_boto3_shaped_client(
    sm: SmEnv, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    arn = register(sm.store, tmp_path, account=ACCOUNT, name="py")
    sm.secret("p", "pw")
    sm.call("RotateSecret", SecretId="p", RotationLambdaARN=arn)
    sm.sm.rotate_due(sm.clock.now)
    assert sm.value("p")["SecretString"] == "pw+"


def test_entry_point_and_arn_parsing() -> None:
    assert load_entry_point("json:dumps") is json.dumps
    for bad in ("json", ":x", "json:"):
        with pytest.raises(ValueError):
            load_entry_point(bad)
    assert parse_arn("arn:aws:lambda:eu-west-1:123456789012:function:my-rot") == (
        "123456789012",
        "eu-west-1",
        "my-rot",
    )
    assert parse_arn("arn:aws:lambda:eu-west-1:123456789012:function:my-rot:live") is not None
    assert parse_arn("arn:aws:s3:::bucket") is None


def test_registry_validates_and_hides_keys(sm: SmEnv) -> None:
    registry = RotatorRegistry(sm.store)
    with pytest.raises(ValueError):
        registry.put(RotatorRecord("bad name", ACCOUNT, "us-east-1", "http", "t", {}))
    with pytest.raises(ValueError):
        registry.put(RotatorRecord("name\n", ACCOUNT, "us-east-1", "http", "t", {}))
    with pytest.raises(ValueError):
        registry.put(RotatorRecord("ok", ACCOUNT, "us-east-1", "lambda", "t", {}))
    record = RotatorRecord("ok", ACCOUNT, "us-east-1", "http", "t", {"url": "u", "hmac_key": "ab"})
    registry.put(record)
    assert "hmac_key" not in json.dumps(registry.list()[0].public())
    assert registry.by_arn(record.arn) == record
    assert registry.delete(ACCOUNT, "us-east-1", "ok")
    assert registry.list() == []
