"""Admin commands: accounts and the root key. They open the store directly,
and the ones that change it record audit events (audit/admin_events.py)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from strongroom.audit.admin_events import AdminAuditError, admin_action, resource
from strongroom.cli.options import (
    build_settings,
    console,
    emit,
    json_option,
    open_admin_platform,
    report_audit_failure,
    store_options,
)

if TYPE_CHECKING:
    from strongroom.platform import Platform


def _unused_account_id(platform: Platform) -> str:
    """A random account id nobody has: chosen before the audit request entry,
    which must name the account it is about to create."""
    from strongroom.iam.ids import new_account_id

    while True:
        candidate = new_account_id()
        if platform.identities.read().account(candidate) is None:
            return candidate


def create_account_audited(
    platform: Platform, name: str, account_id: str, *, command: str
) -> tuple[str, str]:
    """Create account ``account_id`` with its administrator, recorded in its
    own trail: (access key id, secret). The secret is never recorded."""
    with admin_action(
        platform,
        "CreateAccount",
        [(account_id, platform.settings.region)],
        command=command,
        request_parameters={"accountName": name, "accountId": account_id},
        resources=[
            resource(f"arn:aws:iam::{account_id}:root"),
            resource(f"arn:aws:iam::{account_id}:user/admin"),
        ],
    ) as action:
        new_id, akid, secret = platform.identities.create_account(name, account_id)
        action.response = {
            "accountId": new_id,
            "adminUser": f"arn:aws:iam::{new_id}:user/admin",
            "accessKeyId": akid,
        }
    return akid, secret


@click.group()
def accounts() -> None:
    """Create and list accounts."""


@accounts.command("create")
@click.argument("name")
@click.option("--account-id", default=None, help="12-digit id (default: random).")
@store_options
@json_option
def accounts_create(
    name: str, account_id: str | None, data_dir: Path | None, store: str | None, as_json: bool
) -> None:
    """Create account NAME with an administrator; prints its credentials once."""
    if account_id is not None and not (len(account_id) == 12 and account_id.isdigit()):
        raise click.BadParameter("must be 12 digits", param_hint="--account-id")
    platform = open_admin_platform(build_settings(data_dir, store))
    try:
        new_id = account_id or _unused_account_id(platform)
        akid, secret = create_account_audited(
            platform, name, new_id, command="strongroom accounts create"
        )
    except AdminAuditError as exc:
        report_audit_failure(exc)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        platform.close()
    row = {
        "AccountId": new_id,
        "Name": name,
        "AdminUser": f"arn:aws:iam::{new_id}:user/admin",
        "AccessKeyId": akid,
        "SecretAccessKey": secret,
    }
    emit([row], list(row), as_json, title="Account created (the secret is shown only now)")


@accounts.command("list")
@store_options
@json_option
def accounts_list(data_dir: Path | None, store: str | None, as_json: bool) -> None:
    """List accounts."""
    platform = open_admin_platform(build_settings(data_dir, store))
    try:
        rows = platform.identities.list_accounts()
    finally:
        platform.close()
    emit(rows, ["AccountId", "Name", "Created"], as_json, title="Accounts")


@click.group()
def root() -> None:
    """The root key that seals all stored data."""


@root.command("rotate")
@store_options
@json_option
def root_rotate(data_dir: Path | None, store: str | None, as_json: bool) -> None:
    """Start a new barrier key term and re-encrypt every stored value under it.

    Running servers keep serving: they read old terms until re-sealing ends
    and pick up the new term for writes within seconds.
    """
    settings = build_settings(data_dir, store)
    platform = open_admin_platform(settings)
    try:
        # The root key protects every account's data: each account's trail
        # gets the event (one per account, sharing sharedEventID).
        accounts = [a["AccountId"] for a in platform.identities.list_accounts()]
        partitions = [(a, settings.region) for a in accounts or [settings.default_account_id]]
        with admin_action(
            platform, "RotateRootKey", partitions, command="strongroom root rotate"
        ) as action:
            term = platform.barrier.rotate()
            count = platform.barrier.reseal_all(platform.raw_store).resealed
            action.response = {"term": term, "resealed": count}
    except AdminAuditError as exc:
        report_audit_failure(exc)
    finally:
        platform.close()
    if as_json:
        emit([{"term": term, "resealed": count}], ["term", "resealed"], True)
    else:
        console.print(f"Barrier key rotated to term {term}; {count} values re-sealed.")
