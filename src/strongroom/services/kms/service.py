"""The KMS service: one class composed of one mixin per area of the API.

Each mixin is a small module (key lifecycle, key policies, encryption,
aliases, grants, tags, rotation, …); the gateway sees a single
:class:`KmsService` with one method per operation. The background jobs
(deletion, rotation, imported-material expiry) are registered here, when
the platform builds the service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from strongroom.context import RequestContext
from strongroom.errors import ServiceError, internal_failure, not_implemented
from strongroom.services.kms.aliases import AliasOperations
from strongroom.services.kms.asymmetric_ops import AsymmetricOperations
from strongroom.services.kms.conditions import INVOKED_BY
from strongroom.services.kms.custom_stores import CustomKeyStoreOperations
from strongroom.services.kms.encryption import EncryptionOperations
from strongroom.services.kms.events import KmsEvents
from strongroom.services.kms.grants import GrantOperations
from strongroom.services.kms.importing import ImportOperations
from strongroom.services.kms.jobs import EVERY_SECONDS, KmsJobs
from strongroom.services.kms.key_policies import KeyPolicyOperations
from strongroom.services.kms.keys import KeyOperations
from strongroom.services.kms.multiregion import MultiRegionOperations
from strongroom.services.kms.rotation import RotationOperations
from strongroom.services.kms.tags import TagOperations

if TYPE_CHECKING:
    from strongroom.platform import Platform


class KmsService(
    KeyOperations,
    KeyPolicyOperations,
    EncryptionOperations,
    AliasOperations,
    GrantOperations,
    TagOperations,
    RotationOperations,
    AsymmetricOperations,
    ImportOperations,
    MultiRegionOperations,
    CustomKeyStoreOperations,
):
    model_name: ClassVar[str] = "kms"
    partial: ClassVar[dict[str, str]] = {
        "CreateKey": (
            "SM2 and ML_KEM_512 key specs and custom key stores (AWS_CLOUDHSM, "
            "EXTERNAL_KEY_STORE) answer UnsupportedOperationException"
        ),
        "CreateGrant": "GranteeServicePrincipal/RetiringServicePrincipal not supported",
        "Decrypt": "Recipient (Nitro Enclaves attestation) answers UnsupportedOperationException",
        "GenerateDataKey": "Recipient answers UnsupportedOperationException",
        "GenerateDataKeyPair": "Recipient answers UnsupportedOperationException",
        "GenerateRandom": ("Recipient answers UnsupportedOperationException; no custom key stores"),
        "DeriveSharedSecret": "Recipient answers UnsupportedOperationException",
        "CreateCustomKeyStore": "custom key stores not supported yet: UnsupportedOperationException",
        "ConnectCustomKeyStore": "no custom key stores: CustomKeyStoreNotFoundException",
        "DisconnectCustomKeyStore": "no custom key stores: CustomKeyStoreNotFoundException",
        "UpdateCustomKeyStore": "no custom key stores: CustomKeyStoreNotFoundException",
        "DeleteCustomKeyStore": "no custom key stores: CustomKeyStoreNotFoundException",
        "DescribeCustomKeyStores": "always an empty list (no custom key stores yet)",
    }

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.jobs = KmsJobs(self.repo, self.usage, KmsEvents(platform))
        if platform.jobs is not None:
            platform.jobs.add("kms-scheduled-work", EVERY_SECONDS, self.jobs.run)
        platform.on_reset.append(self.clear_caches)
        # Request counters not yet written reach the store before it closes.
        platform.on_close.append(self.meter.flush)

    def clear_caches(self) -> None:
        self.repo.invalidate()
        self.usage.clear()
        self.meter.clear()

    def call_as_service(
        self,
        ctx: RequestContext,
        service_name: str,
        operation: str,
        params: Mapping[str, Any],
    ) -> dict[str, Any]:
        """Call a KMS operation for another service acting for the caller.

        What Secrets Manager or SSM use in-process: the request is
        authorized as the caller's own, with ``kms:ViaService`` set to
        ``<service_name>.<region>.amazonaws.com`` (and CloudTrail's
        ``invokedBy`` recorded in the audit data), exactly what AWS managed
        key policies test for.

        Every call, allowed or not, is noted in the *caller's*
        ``ctx.audit["nested_calls"]``: the audit trail records it as a KMS
        event of its own (``userIdentity.invokedBy``, the service as source
        address and user agent), as CloudTrail does for calls a service
        makes on a user's behalf. Parameters and results are kept as they
        are; the trail redacts them from the KMS model when it builds the
        event (plaintexts and data keys never reach a record).
        """
        invoked_by = f"{service_name}.amazonaws.com"
        kms_ctx = ctx.acting_for("kms", operation, {INVOKED_BY: invoked_by})
        call: dict[str, Any] = {
            "service": "kms",
            "operation": operation,
            "params": dict(params),
            "audit": kms_ctx.audit,
            "invoked_by": invoked_by,
        }
        ctx.audit.setdefault("nested_calls", []).append(call)
        try:
            handler = self.handler(operation)
            if handler is None:
                raise not_implemented("kms", operation)
            result = handler(kms_ctx, dict(params))
        except ServiceError as err:
            call["error"] = err
            raise
        except Exception:
            # The caller turns this into its own InternalFailure; the KMS
            # event says the call failed rather than leaving no trace.
            call["error"] = internal_failure(ctx.request_id)
            raise
        call["result"] = result
        return result
