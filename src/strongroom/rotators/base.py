"""The rotation-function contract, as AWS defines it for Lambda.

Secrets Manager invokes the function once per step with the event
``{"Step", "SecretId", "ClientRequestToken"}``; the steps run in order:

- ``createSecret``: put a new version (id = the token) labelled AWSPENDING;
- ``setSecret``: make the database (or service) accept the pending credentials;
- ``testSecret``: prove the pending credentials work;
- ``finishSecret``: move AWSCURRENT to the pending version.

A step that raises fails the rotation at that step; AWSCURRENT still holds
working credentials and AWSPENDING stays for the retry, which starts again
from createSecret with the same token (every step must be idempotent).
"""

from __future__ import annotations

from typing import Any, Protocol

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


class RotationError(Exception):
    """A rotator step failed; the message must never contain a secret."""


class SecretsClient(Protocol):
    """The Secrets Manager operations a rotator uses (boto3 method names).

    Built-in and Python rotators get an in-process client that calls the
    service as the secret's account; an HTTP rotator's endpoint uses its
    own credentials against the API instead, as a Lambda function would.
    """

    def describe_secret(self, **params: Any) -> dict[str, Any]: ...

    def get_secret_value(self, **params: Any) -> dict[str, Any]: ...

    def put_secret_value(self, **params: Any) -> dict[str, Any]: ...

    def update_secret_version_stage(self, **params: Any) -> dict[str, Any]: ...

    def get_random_password(self, **params: Any) -> dict[str, Any]: ...


class Rotator(Protocol):
    def invoke(self, event: dict[str, str], client: SecretsClient) -> None:
        """Run one step; raise to fail it."""
