"""What a service is to the gateway: a name and one method per operation."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from botocore import xform_name

from strongroom.context import RequestContext

if TYPE_CHECKING:
    from strongroom.platform import Platform

Handler = Callable[[RequestContext, dict[str, Any]], dict[str, Any]]


class Service:
    """Base class. Subclasses set ``model_name`` (the botocore service name)
    and define one method per AWS operation, named in snake_case
    (``CreateUser`` -> ``create_user``), taking ``(ctx, params)`` and returning
    the output members as a dict (bytes for blobs, datetime for timestamps).
    """

    model_name: ClassVar[str]
    # Operations implemented with known gaps: operation name -> what is missing.
    # docs/api-coverage.md is generated from this and the methods present.
    partial: ClassVar[dict[str, str]] = {}

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def handler(self, operation: str) -> Handler | None:
        method = getattr(self, xform_name(operation), None)
        return method if callable(method) else None
