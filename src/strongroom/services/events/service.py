"""The EventBridge service (``events``, JSON 1.1, target prefix AWSEvents).

Building it installs the routing bus as ``Platform.events`` — from then on
every event any service publishes is matched against the rules — and
registers the HTTP delivery worker on the leader-elected job runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from strongroom.events.delivery import DeliveryWorker
from strongroom.events.routing import RoutingBus
from strongroom.rotators.client import InProcessSecretsClient
from strongroom.services.events.event_ops import EventOperations
from strongroom.services.events.rule_ops import RuleOperations
from strongroom.services.events.target_ops import TargetOperations

if TYPE_CHECKING:
    from strongroom.platform import Platform

DELIVERY_EVERY_SECONDS = 1.0


class EventsService(RuleOperations, TargetOperations, EventOperations):
    model_name: ClassVar[str] = "events"
    partial: ClassVar[dict[str, str]] = {
        "PutRule": (
            "default event bus only; EventPattern rules only (ScheduleExpression answers "
            "ValidationException); Tags only read for strongroom:signing-secret-id; no RoleArn use"
        ),
        "PutTargets": (
            "targets strongroom:http:<url> (signed HTTP POST) and CloudWatch Logs log-group "
            "ARNs (recorded in the store); Input/InputPath, RetryPolicy; no InputTransformer"
        ),
        "PutEvents": "default event bus only; no EndpointId, TraceHeader; no size limits",
        "ListRules": "default event bus only",
        "DescribeRule": "default event bus only",
        "DeleteRule": "default event bus only; Force is ignored (no managed rules)",
        "RemoveTargets": "default event bus only; Force is ignored (no managed rules)",
        "ListTargetsByRule": "default event bus only",
        "EnableRule": "default event bus only",
        "DisableRule": "default event bus only",
    }

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.bus = RoutingBus(platform.store, platform.clock)
        platform.events = self.bus
        self.worker = DeliveryWorker(platform.store, platform.clock, self.signing_key)
        if platform.jobs is not None:
            platform.jobs.add("events-delivery", DELIVERY_EVERY_SECONDS, self.worker.run)

    def signing_key(self, account: str, region: str, secret_id: str) -> bytes | None:
        """The rule's HMAC key: the SecretString (UTF-8) of a Secrets Manager
        secret, read as the rule's account through the in-process client, so
        Secrets Manager and KMS authorize it like any read."""
        secrets = self.platform.services.get("secretsmanager")
        if secrets is None:
            return None
        client = InProcessSecretsClient(self.platform, secrets, account, region)
        value = client.get_secret_value(SecretId=secret_id).get("SecretString")
        return str(value).encode() if value else None
