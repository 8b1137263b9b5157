"""An in-process Secrets Manager client for rotators running inside Strongroom.

It calls the service's operations directly, as the secret's account (its
root principal: in AWS the rotation function acts with its execution role;
here the operator who registered the rotator vouches for it), so every call
is still authorized and KMS still checks the key policy with
``kms:ViaService``. Errors keep their AWS code and also carry botocore's
``response`` shape, so code written for boto3 (``err.response["Error"]
["Code"]``) runs unchanged.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.iam.principal import Principal, root_principal

if TYPE_CHECKING:
    from strongroom.platform import Platform
    from strongroom.services.base import Service


class ClientError(ServiceError):
    """A ServiceError shaped like botocore's ClientError."""

    def __init__(self, error: ServiceError, operation: str) -> None:
        super().__init__(error.code, error.message, error.status)
        self.operation_name = operation
        self.response: dict[str, Any] = {
            "Error": {"Code": error.code, "Message": error.message},
            "ResponseMetadata": {"HTTPStatusCode": error.status},
        }

    def __str__(self) -> str:
        return f"An error occurred ({self.code}) when calling the {self.operation_name} operation: {self.message}"


class InProcessSecretsClient:
    def __init__(
        self,
        platform: Platform,
        service: Service,
        account: str,
        region: str,
        principal: Principal | None = None,
    ) -> None:
        self.platform = platform
        self.service = service
        self.region = region
        self.principal = principal or root_principal(account)

    def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        handler = self.service.handler(operation)
        if handler is None:
            raise ClientError(ServiceError("NotImplemented", operation, 501), operation)
        ctx = RequestContext(
            request_id=str(uuid.uuid4()),
            region=self.region,
            principal=self.principal,
            now=self.platform.clock(),
            platform=self.platform,
            service="secretsmanager",
            operation=operation,
            source_ip="secretsmanager.amazonaws.com",
            user_agent="strongroom-rotator",
        )
        try:
            return handler(ctx, dict(params))
        except ClientError:
            raise
        except ServiceError as exc:
            raise ClientError(exc, operation) from None

    def describe_secret(self, **params: Any) -> dict[str, Any]:
        return self.call("DescribeSecret", params)

    def get_secret_value(self, **params: Any) -> dict[str, Any]:
        return self.call("GetSecretValue", params)

    def put_secret_value(self, **params: Any) -> dict[str, Any]:
        return self.call("PutSecretValue", params)

    def update_secret_version_stage(self, **params: Any) -> dict[str, Any]:
        return self.call("UpdateSecretVersionStage", params)

    def get_random_password(self, **params: Any) -> dict[str, Any]:
        return self.call("GetRandomPassword", params)
