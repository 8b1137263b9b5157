"""``strongroom policy simulate``: explain a decision from policy documents."""

from __future__ import annotations

from pathlib import Path

import click

from strongroom.cli.options import emit, json_option

EXIT_DENIED = 1


def _context_pairs(values: tuple[str, ...]) -> dict[str, str | list[str]]:
    context: dict[str, str | list[str]] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--context")
        existing = context.get(key)
        if existing is None:
            context[key] = value
        else:
            context[key] = [*(existing if isinstance(existing, list) else [existing]), value]
    return context


@click.group()
def policy() -> None:
    """Work with IAM policy documents."""


@policy.command("simulate")
@click.option(
    "--policy",
    "policy_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Identity-based policy JSON file (repeatable).",
)
@click.option(
    "--resource-policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Resource-based policy JSON file (key policy, trust policy…).",
)
@click.option(
    "--boundary",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Permissions boundary policy JSON file.",
)
@click.option(
    "--action",
    "actions",
    multiple=True,
    required=True,
    help="Action to test, e.g. kms:Decrypt (repeatable).",
)
@click.option("--resource", default="*", show_default=True, help="Resource ARN.")
@click.option(
    "--principal-arn", default="arn:aws:iam::000000000000:user/simulated", show_default=True
)
@click.option(
    "--resource-account",
    default=None,
    help="Owner account of the resource (default: the principal's).",
)
@click.option(
    "--require-resource-policy",
    is_flag=True,
    help="The resource policy must allow on its own (KMS key policies, role trust policies).",
)
@click.option(
    "--context", "context_items", multiple=True, help="Condition key KEY=VALUE (repeatable)."
)
@json_option
def simulate(
    policy_files: tuple[Path, ...],
    resource_policy: Path | None,
    boundary: Path | None,
    actions: tuple[str, ...],
    resource: str,
    principal_arn: str,
    resource_account: str | None,
    require_resource_policy: bool,
    context_items: tuple[str, ...],
    as_json: bool,
) -> None:
    """Evaluate ACTIONs against policy files and explain which statement decided.

    Exits 0 when every action is allowed, 1 when any is denied.
    """
    from strongroom.iam.policy import (
        MalformedPolicy,
        PolicyKind,
        PolicySet,
        RequestInfo,
        evaluate,
        explain,
        parse_policy,
    )

    account = principal_arn.split(":")[4] if principal_arn.count(":") >= 5 else "000000000000"
    try:
        identity = tuple(
            parse_policy(p.read_text(), kind=PolicyKind.IDENTITY, label=p.name)
            for p in policy_files
        )
        resource_doc = (
            parse_policy(
                resource_policy.read_text(), kind=PolicyKind.RESOURCE, label=resource_policy.name
            )
            if resource_policy
            else None
        )
        boundary_doc = (
            parse_policy(boundary.read_text(), kind=PolicyKind.BOUNDARY, label=boundary.name)
            if boundary
            else None
        )
    except MalformedPolicy as exc:
        raise click.ClickException(f"malformed policy: {exc}") from None
    context: dict[str, object] = {
        "aws:PrincipalArn": principal_arn,
        "aws:PrincipalAccount": account,
        **_context_pairs(context_items),
    }
    policies = PolicySet(
        identity=identity,
        resource=resource_doc,
        resource_account=resource_account or account,
        boundary=boundary_doc,
        require_resource_policy=require_resource_policy,
    )
    rows = []
    for action in actions:
        request = RequestInfo(
            action=action,
            resource=resource,
            principal_arn=principal_arn,
            principal_account=account,
            context=context,  # type: ignore[arg-type]
            principal_ids=(principal_arn,),
        )
        decision = evaluate(request, policies)
        rows.append(
            {
                "Action": action,
                "Resource": resource,
                "Decision": {"allow": "allowed", "explicit_deny": "explicitDeny"}.get(
                    decision.kind, "implicitDeny"
                ),
                "Explanation": explain(decision),
            }
        )
    emit(
        rows, ["Action", "Resource", "Decision", "Explanation"], as_json, title="Policy simulation"
    )
    if any(r["Decision"] != "allowed" for r in rows):
        raise SystemExit(EXIT_DENIED)
