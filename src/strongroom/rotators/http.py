"""The HTTP rotator: each step is a signed POST to an endpoint the operator runs.

The endpoint plays the part of a Lambda rotation function: it receives the
step event as JSON and does the work through the Strongroom API with its own
credentials. A 2xx answer means the step succeeded; anything else (or no
answer within the timeout) fails it.

So that the endpoint can tell these requests come from Strongroom, each
carries ``X-Strongroom-Timestamp`` (Unix seconds) and
``X-Strongroom-Signature: v1=<hex HMAC-SHA256(key, timestamp + "." + body)>``
with the key generated when the rotator was registered. Endpoints should
compare in constant time and refuse timestamps more than a few minutes old
(:func:`verify_signature` does both).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any

from strongroom.rotators.base import RotationError, SecretsClient

SIGNATURE_HEADER = "X-Strongroom-Signature"
TIMESTAMP_HEADER = "X-Strongroom-Timestamp"
MAX_SKEW_SECONDS = 300


def sign(key: bytes, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify_signature(
    key: bytes, timestamp: str, body: bytes, signature: str, *, now: float | None = None
) -> bool:
    """For endpoints: is this request really from Strongroom, and recent?"""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > MAX_SKEW_SECONDS:
        return False
    return hmac.compare_digest(sign(key, timestamp, body), signature)


class HttpRotator:
    def __init__(self, config: dict[str, Any]) -> None:
        self.url = str(config["url"])
        self.key = bytes.fromhex(str(config["hmac_key"]))
        self.timeout = float(config.get("timeout", 30))

    def invoke(self, event: dict[str, str], client: SecretsClient) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "strongroom-rotator/1",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(self.key, timestamp, body),
            },
        )
        step = event["Step"]
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            raise RotationError(
                f"The HTTP rotator could not be reached for {step}: {exc}"
            ) from None
        if not 200 <= status < 300:
            raise RotationError(f"The HTTP rotator answered {status} to {step}.")
