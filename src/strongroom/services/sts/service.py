"""AWS Security Token Service: who am I, and temporary credentials.

Session credentials are ordinary credential records (``auth/akid/ASIA…``)
with an expiry and the SHA-256 of their session token; the gateway
authenticates them like any key and checks token and expiry.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from strongroom.context import RequestContext
from strongroom.iam.errors import access_denied, malformed_policy, validation
from strongroom.iam.identities import IdentityStore
from strongroom.iam.policy import MalformedPolicy, PolicyKind, parse_policy
from strongroom.iam.principal import Principal, PrincipalType, SessionContext
from strongroom.iam.records import AWS_ACCOUNT
from strongroom.iam.repository import parse_policy_arn
from strongroom.services.base import Service
from strongroom.services.sts.sessions import (
    EXTERNAL_ID_RE,
    MAX_POLICY_ARNS,
    ROLE_CHAINING_LIMIT,
    SESSION_NAME_RE,
    SOURCE_IDENTITY_RE,
    check_duration,
    check_pattern,
    check_session_tags,
    credentials_out,
    merge_tags,
    new_session_ids,
    packed_percent,
    parse_role_arn,
    session_record,
)

Params = dict[str, Any]
Result = dict[str, Any]

DEFAULT_ROLE_SESSION = 3600
USER_SESSION_DEFAULT, USER_SESSION_MAX = 43200, 129600
ROOT_SESSION_MAX = 3600
MIN_SESSION = 900


def _no_mfa(params: Params) -> None:
    # Strongroom has no MFA devices, so no token code can ever be valid.
    if params.get("SerialNumber") or params.get("TokenCode"):
        raise access_denied("MultiFactorAuthentication failed with invalid MFA one time pass code.")


class StsService(Service):
    model_name: ClassVar[str] = "sts"

    @property
    def ids(self) -> IdentityStore:
        return self.platform.identities

    def get_caller_identity(self, ctx: RequestContext, params: Params) -> Result:
        # Needs no permission in AWS: even an explicit Deny cannot hide who you are.
        principal = ctx.principal
        return {
            "UserId": principal.principal_id,
            "Account": principal.account_id,
            "Arn": principal.arn,
        }

    def get_access_key_info(self, ctx: RequestContext, params: Params) -> Result:
        akid = str(params.get("AccessKeyId") or "")
        if not 16 <= len(akid) <= 128 or not akid.isalnum():
            raise validation(
                f"1 validation error detected: Value '{akid}' at 'accessKeyId' is invalid"
            )
        ctx.authorize("sts:GetAccessKeyInfo", "*")
        record = self.ids.read().key(akid)
        if record is None:
            raise validation(f"The access key ID {akid} is not known.")
        return {"Account": record.account}

    # -- AssumeRole -------------------------------------------------------------

    def assume_role(self, ctx: RequestContext, params: Params) -> Result:
        role_arn = str(params.get("RoleArn") or "")
        session_name = check_pattern(
            str(params.get("RoleSessionName") or ""), SESSION_NAME_RE, "roleSessionName"
        )
        role_account, role_name = parse_role_arn(role_arn)
        external_id = params.get("ExternalId")
        if external_id is not None:
            check_pattern(str(external_id), EXTERNAL_ID_RE, "externalId")
        _no_mfa(params)
        caller = ctx.principal
        caller_record = self.ids.read().key(caller.access_key_id) if caller.session else None

        # Session policies: an inline document and/or managed policy ARNs.
        policy_text = params.get("Policy")
        session_docs: list[str] = []
        if policy_text is not None:
            try:
                parse_policy(str(policy_text), kind=PolicyKind.SESSION)
            except MalformedPolicy as exc:
                raise malformed_policy(str(exc)) from exc
            session_docs.append(str(policy_text))
        arns = [str(d.get("arn", "")) for d in params.get("PolicyArns") or ()]
        if len(arns) > MAX_POLICY_ARNS:
            raise validation(f"Member must have length less than or equal to {MAX_POLICY_ARNS}")
        data = self.ids.read()
        for arn in arns:
            owner, _, _ = parse_policy_arn(arn)
            policy = data.policy(arn) if owner in (AWS_ACCOUNT, role_account) else None
            if policy is None:
                raise malformed_policy(f"Policy {arn} does not exist or is not attachable.")
            session_docs.append(policy.default_document())

        # Session tags: new ones, plus transitive ones inherited when chaining.
        tags = check_session_tags(params.get("Tags"))
        transitive = [str(k) for k in params.get("TransitiveTagKeys") or ()]
        lowered = {k.lower() for k in tags}
        if any(k.lower() not in lowered for k in transitive):
            raise validation(
                "The specified transitive tag key must be included in the requested tags."
            )
        inherited: dict[str, str] = {}
        if caller_record is not None:
            for key in caller_record.transitive_tag_keys:
                if key in caller.tags:
                    inherited[key] = caller.tags[key]
            if any(k.lower() in lowered for k in inherited):
                raise validation(
                    "Cannot override transitive session tags inherited by role chaining."
                )
        packed = packed_percent(None if policy_text is None else str(policy_text), arns, tags)

        source_identity = params.get("SourceIdentity")
        inherited_source = caller.session.source_identity if caller.session else None
        if source_identity is not None:
            check_pattern(str(source_identity), SOURCE_IDENTITY_RE, "sourceIdentity")
            if inherited_source is not None and source_identity != inherited_source:
                raise validation("The source identity of a role-chained session cannot change.")
        source_identity = source_identity or inherited_source

        conditions: dict[str, Any] = {"sts:RoleSessionName": session_name}
        if external_id is not None:
            conditions["sts:ExternalId"] = str(external_id)
        if source_identity is not None:
            conditions["sts:SourceIdentity"] = str(source_identity)
        if tags:
            conditions.update({f"aws:RequestTag/{k}": v for k, v in tags.items()})
            conditions["aws:TagKeys"] = list(tags)
        if transitive:
            conditions["sts:TransitiveTagKeys"] = transitive

        role = data.get(role_account, "role", role_name)
        if role is None or role.arn.lower() != role_arn.lower() or role.trust is None:
            # A missing role looks exactly like a refused one.
            raise access_denied(
                f"User: {caller.arn} is not authorized to perform: sts:AssumeRole "
                f"on resource: {role_arn}"
            )
        trust = role.trust
        actions = ["sts:AssumeRole"]
        if tags or transitive:
            actions.append("sts:TagSession")
        if params.get("SourceIdentity") is not None:
            actions.append("sts:SetSourceIdentity")
        for action in actions:
            # The trust policy must allow each action on its own (AWS requires
            # sts:TagSession / sts:SetSourceIdentity in the trust policy too).
            ctx.authorize(
                action,
                role.arn,
                resource_policy=trust,
                resource_account=role.account,
                require_resource_policy=True,
                resource_policy_kind=PolicyKind.TRUST,
                conditions=conditions,
            )

        chaining = caller.type is PrincipalType.ASSUMED_ROLE
        if chaining:
            duration = check_duration(
                params.get("DurationSeconds"),
                default=DEFAULT_ROLE_SESSION,
                minimum=MIN_SESSION,
                maximum=ROLE_CHAINING_LIMIT,
                message="The requested DurationSeconds exceeds the 1 hour session limit "
                "for roles assumed by role chaining.",
            )
        else:
            duration = check_duration(
                params.get("DurationSeconds"),
                default=min(DEFAULT_ROLE_SESSION, role.max_session),
                minimum=MIN_SESSION,
                maximum=role.max_session,
                message="The requested DurationSeconds exceeds the MaxSessionDuration set "
                "for this role.",
            )

        now = ctx.platform.clock().replace(microsecond=0)
        expires = now + timedelta(seconds=duration)
        akid, secret, token = new_session_ids()
        role_tags = {t["Key"]: t["Value"] for t in role.tags}
        principal = Principal(
            account_id=role.account,
            arn=f"arn:aws:sts::{role.account}:assumed-role/{role.name}/{session_name}",
            type=PrincipalType.ASSUMED_ROLE,
            principal_id=f"{role.id}:{session_name}",
            access_key_id=akid,
            session=SessionContext(
                issuer_arn=role.arn,
                issuer_id=role.id,
                issuer_type="Role",
                session_name=session_name,
                created=now,
                expires=expires,
                mfa_authenticated=bool(caller.session and caller.session.mfa_authenticated),
                session_policies=tuple(session_docs),
                source_identity=None if source_identity is None else str(source_identity),
            ),
            tags=merge_tags(merge_tags(role_tags, tags), inherited),
        )
        keep = [k for k in tags if k.lower() in {t.lower() for t in transitive}]
        self.ids.save_session(
            session_record(principal, secret, token, now, expires, [*inherited, *keep])
        )
        self.ids.note_role_used(role.account, role.name, ctx.region)
        out: Result = {
            "Credentials": credentials_out(akid, secret, token, expires),
            "AssumedRoleUser": {"AssumedRoleId": principal.principal_id, "Arn": principal.arn},
        }
        if policy_text is not None or arns or tags:
            out["PackedPolicySize"] = packed
        if source_identity is not None:
            out["SourceIdentity"] = str(source_identity)
        return out

    # -- GetSessionToken ----------------------------------------------------------

    def get_session_token(self, ctx: RequestContext, params: Params) -> Result:
        """Temporary credentials for an IAM user or the root user.

        AWS requires no permission for this call (its purpose is MFA), so
        none is checked; session credentials may not call it.
        """
        caller = ctx.principal
        if caller.session is not None or caller.type not in (
            PrincipalType.USER,
            PrincipalType.ROOT,
        ):
            raise access_denied("Cannot call GetSessionToken with session credentials")
        _no_mfa(params)
        root = caller.type is PrincipalType.ROOT
        duration = check_duration(
            params.get("DurationSeconds"),
            default=ROOT_SESSION_MAX if root else USER_SESSION_DEFAULT,
            minimum=MIN_SESSION,
            maximum=ROOT_SESSION_MAX if root else USER_SESSION_MAX,
        )
        now = ctx.platform.clock().replace(microsecond=0)
        expires = now + timedelta(seconds=duration)
        akid, secret, token = new_session_ids()
        principal = Principal(
            account_id=caller.account_id,
            arn=caller.arn,
            type=caller.type,
            principal_id=caller.principal_id,
            access_key_id=akid,
            user_name=caller.user_name,
            session=SessionContext(
                issuer_arn=caller.arn,
                issuer_id=caller.principal_id,
                issuer_type="Root" if root else "IAMUser",
                session_name=None,
                created=now,
                expires=expires,
            ),
            tags=dict(caller.tags),
        )
        self.ids.save_session(session_record(principal, secret, token, now, expires))
        return {"Credentials": credentials_out(akid, secret, token, expires)}
