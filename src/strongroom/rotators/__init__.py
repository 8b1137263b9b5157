"""Rotation functions for Secrets Manager: registered rotators (database,
HTTP, Python) that a secret's RotationLambdaARN names."""

from strongroom.rotators.base import STEPS, RotationError, Rotator, SecretsClient
from strongroom.rotators.registry import RotatorRecord, RotatorRegistry, parse_arn, rotator_arn

__all__ = [
    "STEPS",
    "RotationError",
    "Rotator",
    "RotatorRecord",
    "RotatorRegistry",
    "SecretsClient",
    "parse_arn",
    "rotator_arn",
]
