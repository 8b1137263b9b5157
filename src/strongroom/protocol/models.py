"""The botocore service models, loaded once and wrapped for the protocol layer.

The models shipped with botocore are the API specification we serve: the
same files the clients are generated from, so a member name, a constraint or
a target prefix can never drift between client and server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from botocore.loaders import Loader
from botocore.model import OperationModel, OperationNotFoundError, ServiceModel

# Every service answered on the one endpoint. Order matters where a Query
# Action is looked up without a signing scope: STS is asked before IAM.
SERVED_SERVICES: tuple[str, ...] = (
    "iam",
    "sts",
    "kms",
    "ssm",
    "secretsmanager",
    "cloudtrail",
    "events",
)

# The wire protocols this layer speaks; a model may list several (newer
# botocore models name alternatives in "protocols"), we take the first we know.
_KNOWN_PROTOCOLS = ("json", "query")


@dataclass(frozen=True, eq=False)
class ServiceSpec:
    """One AWS service as the protocol layer needs it (identity-compared)."""

    name: str
    protocol: str
    target_prefix: str | None
    signing_name: str
    model: ServiceModel = field(repr=False)
    api_version: str = ""
    json_version: str = "1.1"
    xml_namespace: str | None = None
    operations: frozenset[str] = field(default_factory=frozenset, repr=False)

    def operation(self, name: str) -> OperationModel | None:
        """The operation model, or None when the service has no such operation."""
        if name not in self.operations:
            return None
        try:
            op: OperationModel = self.model.operation_model(name)
        except OperationNotFoundError:  # pragma: no cover - guarded by the set above
            return None
        return op

    @property
    def json_content_type(self) -> str:
        return f"application/x-amz-json-{self.json_version}"


_loader: Loader | None = None
_specs: dict[str, ServiceSpec] = {}
_lock = threading.Lock()


def _pick_protocol(metadata: dict[str, object]) -> str:
    listed = metadata.get("protocols")
    if isinstance(listed, list):
        for proto in listed:
            if proto in _KNOWN_PROTOCOLS:
                return str(proto)
    return str(metadata.get("protocol", ""))


def load_service(name: str) -> ServiceSpec:
    """Load (once per process) and wrap the botocore model of ``name``.

    Raises ``botocore.exceptions.UnknownServiceError`` for a name botocore
    does not know: that is a programming error, not a client error.
    """
    spec = _specs.get(name)
    if spec is not None:
        return spec
    global _loader
    with _lock:
        spec = _specs.get(name)
        if spec is not None:
            return spec
        if _loader is None:
            _loader = Loader()
        model = ServiceModel(_loader.load_service_model(name, "service-2"), name)
        meta = model.metadata
        spec = ServiceSpec(
            name=name,
            protocol=_pick_protocol(meta),
            target_prefix=meta.get("targetPrefix"),
            signing_name=model.signing_name or name,
            model=model,
            api_version=str(meta.get("apiVersion", "")),
            json_version=str(meta.get("jsonVersion", "1.1")),
            xml_namespace=meta.get("xmlNamespace"),
            operations=frozenset(model.operation_names),
        )
        _specs[name] = spec
        return spec


def lower_camel(name: str) -> str:
    """The member name as AWS prints it in validation messages (``KeyId`` -> ``keyId``)."""
    return name[:1].lower() + name[1:]
