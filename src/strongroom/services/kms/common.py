"""What every KMS operation module shares: key lookup, metadata, paging, tags."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from strongroom.context import RequestContext
from strongroom.crypto.kms.specs import algorithms_for
from strongroom.services.base import Service
from strongroom.services.kms import errors
from strongroom.services.kms.authz import KeyAuthorizer
from strongroom.services.kms.meter import PAIR_OPERATIONS, RequestMeter
from strongroom.services.kms.records import GrantRecord, KeyRecord, parse_iso
from strongroom.services.kms.repository import KeyEntry, KmsRepository, KmsTxn
from strongroom.services.kms.resolve import KeyRef, KeyRefParser, require_key_id
from strongroom.services.kms.states import check_state
from strongroom.services.kms.usage import UsageTracker

if TYPE_CHECKING:
    from strongroom.platform import Platform

# CustomerMasterKeySpec (deprecated) only has the original specs.
_CMK_SPECS = frozenset(
    {
        "RSA_2048",
        "RSA_3072",
        "RSA_4096",
        "ECC_NIST_P256",
        "ECC_NIST_P384",
        "ECC_NIST_P521",
        "ECC_SECG_P256K1",
        "SYMMETRIC_DEFAULT",
        "HMAC_224",
        "HMAC_256",
        "HMAC_384",
        "HMAC_512",
        "SM2",
    }
)

MAX_TAGS = 50
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class KmsBase(Service):
    repo: KmsRepository
    keyauth: KeyAuthorizer
    refs: KeyRefParser
    usage: UsageTracker
    meter: RequestMeter

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        monotonic = getattr(platform.clock, "monotonic", time.monotonic)
        self.repo = KmsRepository(platform.store, monotonic=monotonic)
        self.keyauth = KeyAuthorizer(self.repo)
        self.refs = KeyRefParser()
        self.usage = UsageTracker(platform.store, monotonic=monotonic)
        self.meter = RequestMeter(platform.store, monotonic=monotonic)

    # -- key lookup ----------------------------------------------------------

    def ref(self, ctx: RequestContext, value: object, *, allow_alias: bool = True) -> KeyRef:
        return self.refs.parse(
            require_key_id(value), ctx.account_id, ctx.region, allow_alias=allow_alias
        )

    def entry_for(self, ref: KeyRef) -> KeyEntry:
        key_id = ref.key_id
        if key_id is None:
            assert ref.alias is not None
            key_id = self.repo.alias_target(ref.account, ref.region, ref.alias)
            if key_id is None:
                raise errors.alias_not_found(ref.arn)
        entry = self.repo.entry(ref.account, ref.region, key_id)
        if entry is None:
            raise errors.key_not_found(ref.arn)
        return entry

    def lookup(
        self, ctx: RequestContext, params: Mapping[str, Any], *, allow_alias: bool = True
    ) -> tuple[KeyEntry, str | None]:
        """The key a request names, and the alias it was named by (kms:RequestAlias)."""
        ref = self.ref(ctx, params.get("KeyId"), allow_alias=allow_alias)
        return self.entry_for(ref), ref.alias

    def authorize(
        self,
        ctx: RequestContext,
        entry: KeyEntry,
        operation: str,
        *,
        extra: Mapping[str, Any] | None = None,
        alias: str | None = None,
        grant_operation: str | None = None,
        context: Mapping[str, str] | None = None,
        grant_tokens: Sequence[str] | None = None,
    ) -> GrantRecord | None:
        grant = self.keyauth.authorize(
            ctx,
            entry,
            operation,
            extra=extra,
            alias=alias,
            grant_operation=grant_operation,
            context=context,
            grant_tokens=grant_tokens,
        )
        # For CloudTrail: the key this request used, and its owner when that is
        # another account (which then gets a copy of the event, as in AWS).
        resources = ctx.audit.setdefault("resources", [])
        resources.append(entry.arn)
        if entry.record.account != ctx.account_id:
            ctx.audit["resource_account"] = entry.record.account
        if len(resources) == 1:
            # For `strongroom kms usage`: a request counts once, against the
            # first key it names (ReEncrypt's source, UpdateAlias's old key).
            label = ctx.operation or operation
            if label in PAIR_OPERATIONS and extra is not None:
                label = f"{label}:{extra.get('kms:DataKeyPairSpec', '')}"
            self.meter.count(ctx.account_id, ctx.now, entry.record, label)
        return grant

    @staticmethod
    def require_same_account(ctx: RequestContext, entry: KeyEntry) -> None:
        """Operations without cross-account use treat another account's key as absent."""
        if entry.record.account != ctx.account_id:
            raise errors.key_not_found(entry.arn)

    def update_key(
        self,
        entry: KeyEntry,
        operation: str,
        change: Callable[[KeyRecord, KmsTxn], None],
    ) -> KeyRecord:
        """Read-modify-write one key record in a transaction.

        The state is checked again on the freshly read record: the cached
        entry the request was authorized against may be a moment old.
        """
        old = entry.record
        with self.repo.write() as txn:
            record = txn.key(old.account, old.region, old.key_id)
            if record is None:
                raise errors.key_not_found(old.arn)
            check_state(record, operation)
            change(record, txn)
            txn.put_key(record)
        return record

    # -- output ------------------------------------------------------------------

    @staticmethod
    def metadata(record: KeyRecord) -> dict[str, Any]:
        out: dict[str, Any] = {
            "AWSAccountId": record.account,
            "KeyId": record.key_id,
            "Arn": record.arn,
            "CreationDate": parse_iso(record.created),
            "Enabled": record.state == "Enabled",
            "Description": record.description,
            "KeyUsage": record.key_usage,
            "KeyState": record.state,
            "Origin": record.origin,
            "KeyManager": record.manager,
            "KeySpec": record.key_spec,
            "MultiRegion": record.multi_region,
        }
        if record.key_spec in _CMK_SPECS:
            out["CustomerMasterKeySpec"] = record.key_spec
        out.update(algorithms_for(record.key_spec, record.key_usage))
        if record.deletion_date is not None:
            out["DeletionDate"] = parse_iso(record.deletion_date)
        if record.origin == "EXTERNAL":
            out["ExpirationModel"] = record.expiration_model or "KEY_MATERIAL_DOES_NOT_EXPIRE"
            if record.valid_to is not None:
                out["ValidTo"] = parse_iso(record.valid_to)
        if record.multi_region and record.primary_region:
            partition_arn = f"arn:aws:kms:{{}}:{record.account}:key/{record.key_id}"
            out["MultiRegionConfiguration"] = {
                "MultiRegionKeyType": "PRIMARY" if record.is_primary else "REPLICA",
                "PrimaryKey": {
                    "Arn": partition_arn.format(record.primary_region),
                    "Region": record.primary_region,
                },
                "ReplicaKeys": [
                    {"Arn": partition_arn.format(r), "Region": r} for r in record.replica_regions
                ],
            }
        current = record.current_material()
        if record.key_spec == "SYMMETRIC_DEFAULT" and current is not None:
            out["CurrentKeyMaterialId"] = current.id
        return out


def page_limit(params: Mapping[str, Any], default: int = DEFAULT_LIMIT) -> int:
    limit = params.get("Limit")
    if limit is None:
        return default
    if not isinstance(limit, int) or limit < 1 or limit > MAX_LIMIT:
        raise errors.value_error(
            "limit", limit, f"Member must have value between 1 and {MAX_LIMIT}"
        )
    return limit


def paged(items: list[Any], params: Mapping[str, Any], key: str) -> dict[str, Any]:
    """Marker/Limit paging over an in-memory list; the marker is an opaque offset."""
    limit = page_limit(params)
    start = 0
    marker = params.get("Marker")
    if marker is not None:
        if not isinstance(marker, str) or not marker.isdigit() or int(marker) > len(items):
            raise errors.invalid_marker()
        start = int(marker)
    chunk = items[start : start + limit]
    out: dict[str, Any] = {key: chunk, "Truncated": start + limit < len(items)}
    if out["Truncated"]:
        out["NextMarker"] = str(start + limit)
    return out


def check_tags(tags: object) -> dict[str, str]:
    """TagList -> dict, with KMS's TagException rules."""
    if tags is None:
        return {}
    if not isinstance(tags, list):
        raise errors.validation("Tags must be a list")
    out: dict[str, str] = {}
    for tag in tags:
        key = tag.get("TagKey")
        value = tag.get("TagValue")
        if not isinstance(key, str) or not isinstance(value, str):
            raise errors.validation("Each tag needs a TagKey and a TagValue")
        if key.lower().startswith("aws:"):
            raise errors.tag_error("Tags beginning with aws: are reserved")
        if key in out:
            raise errors.tag_error("Duplicate tag keys")
        out[key] = value
    return out


def tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"TagKey": k, "TagValue": v} for k, v in tags.items()]


def check_dry_run(params: Mapping[str, Any]) -> None:
    """Call after authorization: a DryRun that would have succeeded says so."""
    if params.get("DryRun"):
        raise errors.dry_run()
