"""The Python entry-point rotator: ``module:function`` called in-process.

The function has a Lambda handler's signature, ``handler(event, context)``:
``event`` is the step event and ``context.client`` an in-process Secrets
Manager client with boto3's method names, so a rotation function written
for Lambda needs only to use ``context.client`` instead of creating its own
boto3 client. Raising fails the step.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strongroom.rotators.base import RotationError, SecretsClient

_MAX_MESSAGE = 500


@dataclass
class RotationContext:
    client: SecretsClient
    function_arn: str
    config: dict[str, Any] = field(default_factory=dict)


def load_entry_point(spec: str) -> Callable[[dict[str, str], RotationContext], object]:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{spec!r} is not of the form module:function")
    target: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        target = getattr(target, part)
    if not callable(target):
        raise ValueError(f"{spec} is not callable")
    return target  # type: ignore[no-any-return]


class PythonRotator:
    def __init__(self, config: dict[str, Any], arn: str) -> None:
        self.spec = str(config["entry_point"])
        self.config = dict(config)
        self.arn = arn

    def invoke(self, event: dict[str, str], client: SecretsClient) -> None:
        try:
            handler = load_entry_point(self.spec)
        except (ImportError, AttributeError, ValueError) as exc:
            raise RotationError(f"Cannot load the rotator {self.spec}: {exc}") from None
        try:
            handler(dict(event), RotationContext(client, self.arn, self.config))
        except RotationError:
            raise
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"[:_MAX_MESSAGE]
            raise RotationError(f"{event['Step']} failed: {message}") from None
