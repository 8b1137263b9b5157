"""EventBridge error values with AWS's codes and messages."""

from __future__ import annotations

from strongroom.errors import ServiceError


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message, 400)


def invalid_pattern(reason: str) -> ServiceError:
    return ServiceError(
        "InvalidEventPatternException", f"Event pattern is not valid. Reason: {reason}", 400
    )


def rule_not_found(name: str, bus: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.", 400
    )


def bus_not_found(bus: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Event bus {bus} does not exist.", 400)


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError("LimitExceededException", message, 400)
