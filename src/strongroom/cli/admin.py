"""Admin commands: accounts and the root key. They open the store directly."""

from __future__ import annotations

from pathlib import Path

import click

from strongroom.cli.options import (
    build_settings,
    console,
    emit,
    json_option,
    open_admin_platform,
    store_options,
)


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
        new_id, akid, secret = platform.identities.create_account(name, account_id)
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
    platform = open_admin_platform(build_settings(data_dir, store))
    try:
        term = platform.barrier.rotate()
        count = platform.barrier.reseal_all(platform.raw_store).resealed
    finally:
        platform.close()
    if as_json:
        emit([{"term": term, "resealed": count}], ["term", "resealed"], True)
    else:
        console.print(f"Barrier key rotated to term {term}; {count} values re-sealed.")
