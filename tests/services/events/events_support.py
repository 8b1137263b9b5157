"""A ServiceEnv with the EventBridge service installed."""

from __future__ import annotations

import json
from typing import Any

from tests.support.fake_platform import ACCOUNT, ServiceEnv

from strongroom.services.events.service import EventsService

REGION = "us-east-1"
SECRET = "s" * 40
SECRET_ID = "events/hook-key"
SECRET_TAG = [{"Key": "strongroom:signing-secret-id", "Value": SECRET_ID}]
SSM_PATTERN = json.dumps(
    {"source": ["aws.ssm"], "detail-type": ["Parameter Store Change"]}, separators=(",", ":")
)


class EventsEnv(ServiceEnv):
    def __init__(self) -> None:
        super().__init__()
        self.events = EventsService(self.platform)
        self.add_service("events", self.events)
        # Stands in for Secrets Manager: secret id -> SecretString.
        self.secrets: dict[str, str] = {SECRET_ID: SECRET}
        self.events.worker.secrets = self._signing_key

    def _signing_key(self, account: str, region: str, secret_id: str) -> bytes | None:
        assert (account, region) == (ACCOUNT, REGION)
        value = self.secrets.get(secret_id)
        return value.encode() if value is not None else None

    def ev(self, operation: str, **params: Any) -> dict[str, Any]:
        return self.call("events", operation, params)

    def rule(self, name: str, pattern: str = SSM_PATTERN, **extra: Any) -> str:
        return str(self.ev("PutRule", Name=name, EventPattern=pattern, **extra)["RuleArn"])


__all__ = ["ACCOUNT", "REGION", "SECRET", "SECRET_ID", "SECRET_TAG", "SSM_PATTERN", "EventsEnv"]
