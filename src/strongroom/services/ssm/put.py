"""PutParameter: create a parameter or add a version, with AWS's rules for
types, data types, allowed patterns, tiers, policies, quotas and history.

Order of work: validate the request, authorize, decide the tier, encrypt a
SecureString through KMS (outside any store transaction: KMS may write, and
store transactions do not nest), then one transaction that re-checks the
record, evicts the oldest version when 100 are kept, writes the version, the
record, the tier counts and the policy schedule. The "Parameter Store
Change" event is published once that has committed.
"""

from __future__ import annotations

import re
from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.ssm import errors
from strongroom.services.ssm import records as rec
from strongroom.services.ssm.names import check_name, parameter_arn
from strongroom.services.ssm.policies import (
    NO_CHANGE_NOTIFICATION,
    PENDING,
    parse_policies,
)
from strongroom.services.ssm.records import Parameter, Version
from strongroom.services.ssm.settings import SettingOperations
from strongroom.services.ssm.tags import MAX_TAGS, request_tag_keys, tag_dict

MAX_VERSIONS = 100
STANDARD_MAX_BYTES = 4096
ADVANCED_MAX_BYTES = 8192
DATA_TYPES = ("text", "aws:ec2:image")
TYPES = ("String", "StringList", rec.SECURE)
TIERS = (rec.STANDARD, rec.ADVANCED, rec.INTELLIGENT)
_AMI = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")


def _too_large(tier: str, limit: int) -> ServiceError:
    extra = (
        " To create a larger parameter value, upgrade the parameter to use the "
        "advanced-parameter tier."
        if tier == rec.STANDARD
        else ""
    )
    return errors.validation(
        f"{tier} tier parameters support a maximum parameter value of {limit} characters.{extra}"
    )


def _compile_pattern(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise errors.invalid_allowed_pattern(str(exc)) from None


def _check_data_type(data_type: str, kind: str, value: str) -> None:
    if data_type not in DATA_TYPES:
        raise errors.validation(
            f"The following data type is not supported: {data_type} (Data type names are all "
            "lowercase.)"
        )
    if data_type == "aws:ec2:image":
        if kind != "String":
            raise errors.validation(
                f"The aws:ec2:image data type is only valid for String parameters, not {kind}."
            )
        if not _AMI.match(value):
            raise errors.validation(
                "The value isn't a valid EC2 image ID: the aws:ec2:image data type requires "
                "the format ami-12345abcdeEXAMPLE (ami- and 8 or 17 hexadecimal characters)."
            )


class PutOperations(SettingOperations):
    def put_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params.get("Name") or "")
        if name.startswith("arn:"):
            raise errors.validation(
                "PutParameter takes the parameter name, not its ARN (for example /app/db/url)."
            )
        check_name(name, ctx.region, ctx.account_id, for_write=True)
        value = params.get("Value")
        if not isinstance(value, str) or value == "":
            raise errors.validation(
                "1 validation error detected: Value at 'value' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        overwrite = bool(params.get("Overwrite"))
        tags = tag_dict(params.get("Tags"))
        if overwrite and params.get("Tags"):
            raise errors.validation(
                "Invalid request: tags and overwrite can't be used together. To create a "
                "parameter with tags, please remove overwrite flag. To update tags for an "
                "existing parameter, please use AddTagsToResource or RemoveTagsFromResource."
            )
        if len(tags) > MAX_TAGS:
            raise errors.too_many_tags()
        arn = parameter_arn(ctx.region, ctx.account_id, name)
        before = self.repo.read().param(ctx.account_id, ctx.region, name)
        conditions: dict[str, Any] = {"ssm:Overwrite": "true" if overwrite else "false"}
        if params.get("Policies") is not None:
            conditions["ssm:Policies"] = str(params["Policies"])
        if before is not None:
            conditions.update({f"aws:ResourceTag/{k}": v for k, v in before.tags.items()})
        if tags:
            conditions.update(request_tag_keys(tags))
        ctx.authorize("ssm:PutParameter", arn, conditions=conditions)
        if tags:
            ctx.authorize("ssm:AddTagsToResource", arn, conditions=conditions)
        ctx.audit.setdefault("resources", []).append(arn)
        if before is not None and not overwrite:
            raise errors.already_exists()
        version = self._new_version(ctx, params, before, value)
        if version.type == rec.SECURE:
            version.sealed, version.enc, version.key_arn = self.secure.seal(
                ctx,
                ctx.account_id,
                arn,
                version.key_id,
                value,
                envelope=version.tier == rec.ADVANCED,
            )
        else:
            version.value = value
        param = self._commit(ctx, name, before, version, tags)
        self.change_event(param, "Update" if before is not None else "Create")
        return {"Version": version.version, "Tier": version.tier}

    # -- the new version ---------------------------------------------------------

    def _new_version(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        before: Parameter | None,
        value: str,
    ) -> Version:
        old = before.current if before is not None else None
        kind = params.get("Type")
        if old is None and kind is None:
            raise errors.validation("A parameter type is required when you create a parameter.")
        if old is not None and kind is not None and kind != old.type:
            raise errors.type_mismatch(old.type, str(kind))
        kind = str(kind or (old.type if old else ""))
        if kind not in TYPES:
            raise ServiceError(
                "UnsupportedParameterType",
                f"The parameter type {kind} isn't supported: use String, StringList or "
                "SecureString.",
            )
        key_id = params.get("KeyId")
        if key_id is not None and kind != rec.SECURE:
            raise errors.validation("KeyId is required for SecureString type parameter only.")
        data_type = params.get("DataType") or (old.data_type if old else "text")
        _check_data_type(str(data_type), kind, value)
        pattern = params.get("AllowedPattern")
        if pattern is None and old is not None:
            pattern = old.allowed_pattern
        if pattern and _compile_pattern(str(pattern)).fullmatch(value) is None:
            raise errors.pattern_mismatch(str(pattern))
        description = params.get("Description")
        if description is None and old is not None:
            description = old.description
        policies = self._policies(ctx, params, old)
        tier = self._tier(ctx, params, old, len(value.encode()), bool(policies))
        limit = ADVANCED_MAX_BYTES if tier == rec.ADVANCED else STANDARD_MAX_BYTES
        if len(value.encode()) > limit:
            raise _too_large(tier, limit)
        if policies and tier == rec.STANDARD:
            raise errors.validation(
                "Standard tier parameters don't support parameter policies. Use the "
                "advanced-parameter tier (Tier=Advanced or Intelligent-Tiering) for policies."
            )
        if kind == rec.SECURE and key_id is None and old is not None:
            key_id = old.key_id  # an overwrite keeps the key unless it names another
        return Version(
            version=(old.version + 1) if old else 1,
            type=kind,
            modified=rec.iso(ctx.now),
            user=ctx.principal.arn,
            tier=tier,
            data_type=str(data_type),
            key_id=(str(key_id) if key_id else "alias/aws/ssm") if kind == rec.SECURE else None,
            description=str(description) if description is not None else None,
            allowed_pattern=str(pattern) if pattern else None,
            policies=policies,
        )

    def _policies(
        self, ctx: RequestContext, params: dict[str, Any], old: Version | None
    ) -> list[dict[str, str]]:
        """New policies replace the old; without ``Policies`` an overwrite keeps them
        (a NoChangeNotification restarts, since the parameter changes)."""
        text = params.get("Policies")
        if text is not None:
            return [p.inline() for p in parse_policies(str(text), ctx.now)]
        if old is None:
            return []
        kept = [dict(p) for p in old.policies]
        for policy in kept:
            if policy["PolicyType"] == NO_CHANGE_NOTIFICATION:
                policy["PolicyStatus"] = PENDING
        return kept

    def _tier(
        self,
        ctx: RequestContext,
        params: dict[str, Any],
        old: Version | None,
        size: int,
        has_policies: bool,
    ) -> str:
        explicit = params.get("Tier")
        requested = str(explicit or self.default_tier(ctx.account_id, ctx.region))
        if requested not in TIERS:
            raise errors.validation(
                f"1 validation error detected: Value '{requested}' at 'tier' failed to satisfy "
                "constraint: Member must satisfy enum value set: [Standard, Advanced, "
                "Intelligent-Tiering]"
            )
        was_advanced = old is not None and old.tier == rec.ADVANCED
        if requested == rec.ADVANCED:
            return rec.ADVANCED
        if requested == rec.STANDARD:
            if was_advanced:
                if explicit:
                    raise errors.validation(
                        "This parameter uses the advanced-parameter tier. You can't downgrade a "
                        "parameter from the advanced-parameter tier to the standard-parameter "
                        "tier. If necessary, you can delete the advanced parameter and recreate "
                        "it as a standard parameter."
                    )
                return rec.ADVANCED
            return rec.STANDARD
        # Intelligent-Tiering: advanced only when the request needs it.
        if was_advanced or size > STANDARD_MAX_BYTES or has_policies:
            return rec.ADVANCED
        if old is None:
            counts = self.repo.read().counts(ctx.account_id, ctx.region)
            if counts.get(rec.STANDARD, 0) >= self.standard_limit:
                return rec.ADVANCED
        return rec.STANDARD

    # -- the transaction -----------------------------------------------------------

    def _commit(
        self,
        ctx: RequestContext,
        name: str,
        before: Parameter | None,
        version: Version,
        tags: dict[str, str],
    ) -> Parameter:
        account, region = ctx.account_id, ctx.region
        with self.repo.write() as txn:
            param = txn.param(account, region, name)
            now_version = param.current.version if param is not None else 0
            if now_version != (before.current.version if before is not None else 0):
                raise ServiceError(
                    "TooManyUpdates",
                    "There are concurrent updates for a resource that supports one update at "
                    "a time.",
                )
            if param is None:
                self._check_quota(txn.counts(account, region), version.tier)
                param = Parameter(account, region, name, version, rec.iso(ctx.now), tags=tags)
                txn.add_count(account, region, version.tier, +1)
            else:
                if version.tier != param.current.tier:
                    self._check_quota(txn.counts(account, region), version.tier)
                    txn.add_count(account, region, param.current.tier, -1)
                    txn.add_count(account, region, version.tier, +1)
                if len(param.versions) >= MAX_VERSIONS:
                    oldest = param.versions[0]
                    if param.labels_of(oldest):
                        raise errors.max_versions(name, oldest)
                    txn.delete_version(param, oldest)
                    param.versions.pop(0)
                param.current = version
            param.versions.append(version.version)
            txn.put_version(param, version)
            self.reschedule(txn, param)
            txn.put_param(param)
        return param

    def _check_quota(self, counts: dict[str, int], tier: str) -> None:
        limit = self.advanced_limit if tier == rec.ADVANCED else self.standard_limit
        if counts.get(tier, 0) >= limit:
            raise errors.parameter_limit(tier, limit)
