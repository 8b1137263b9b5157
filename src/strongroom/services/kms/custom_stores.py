"""Custom key stores (CloudHSM, external key stores) are not supported yet.

A separate issue covers them. Until then the operations answer what is true
of a deployment that has none: DescribeCustomKeyStores lists nothing, every
named store is CustomKeyStoreNotFoundException, and creating one is
UnsupportedOperationException. Documented in docs/api-coverage.md.
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms.common import KmsBase, page_limit
from strongroom.services.kms.conditions import caller_keys

NOTE = "Strongroom has no custom key stores yet (CloudHSM and external key stores)"


def _not_found(store_id: object) -> ServiceError:
    return ServiceError(
        "CustomKeyStoreNotFoundException", f"Custom key store {store_id} does not exist. {NOTE}."
    )


class CustomKeyStoreOperations(KmsBase):
    def _iam(self, ctx: RequestContext, operation: str) -> None:
        ctx.authorize(f"kms:{operation}", "*", conditions=caller_keys(ctx))

    def describe_custom_key_stores(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        page_limit(params)
        self._iam(ctx, "DescribeCustomKeyStores")
        named = params.get("CustomKeyStoreId") or params.get("CustomKeyStoreName")
        if named:
            raise _not_found(named)
        if params.get("Marker") is not None:
            raise errors.invalid_marker()
        return {"CustomKeyStores": [], "Truncated": False}

    def create_custom_key_store(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        self._iam(ctx, "CreateCustomKeyStore")
        raise errors.unsupported(f"{NOTE}: CreateCustomKeyStore is not supported.")

    def _named(self, ctx: RequestContext, params: dict[str, Any], operation: str) -> dict[str, Any]:
        self._iam(ctx, operation)
        raise _not_found(params.get("CustomKeyStoreId"))

    def connect_custom_key_store(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._named(ctx, params, "ConnectCustomKeyStore")

    def disconnect_custom_key_store(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._named(ctx, params, "DisconnectCustomKeyStore")

    def update_custom_key_store(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._named(ctx, params, "UpdateCustomKeyStore")

    def delete_custom_key_store(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        return self._named(ctx, params, "DeleteCustomKeyStore")
