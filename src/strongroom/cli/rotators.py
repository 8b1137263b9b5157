"""``strongroom rotators``: register the rotation functions secrets can name.

A secret's RotationLambdaARN, ``arn:aws:lambda:REGION:ACCOUNT:function:NAME``,
names a rotator registered here. Like the other admin commands these open
the store directly and work while a server runs; ``add`` and ``remove``
record audit events in the rotator's account (audit/admin_events.py), with
its name, type and ARN, never its configuration (URLs, HMAC keys).
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

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
from strongroom.rotators.registry import TYPES, RotatorRecord, RotatorRegistry, rotator_arn

# What a rotator stands in for: the Lambda function a RotationLambdaARN names.
_RESOURCE_TYPE = "AWS::Lambda::Function"


@click.group()
def rotators() -> None:
    """Register rotators (PostgreSQL, MySQL/MariaDB, HTTP, Python) for secret rotation."""


def _config(
    kind: str,
    url: str | None,
    entry_point: str | None,
    timeout: float | None,
    hmac_key: str | None,
    connect_timeout: float | None,
    exclude_characters: str | None,
    password_length: int | None,
) -> dict[str, Any]:
    config: dict[str, Any] = {}
    if kind == "http":
        if not url or urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
            raise click.BadParameter("an http rotator needs --url http(s)://…", param_hint="--url")
        config["url"] = url
        key = hmac_key or secrets.token_hex(32)
        try:
            if len(bytes.fromhex(key)) < 16:
                raise ValueError
        except ValueError:
            raise click.BadParameter(
                "must be at least 16 bytes, hex-encoded", param_hint="--hmac-key"
            ) from None
        config["hmac_key"] = key
        config["timeout"] = timeout or 30.0
    elif kind == "python":
        module, sep, attr = (entry_point or "").partition(":")
        if not sep or not module or not attr:
            raise click.BadParameter(
                "a python rotator needs --entry-point module:function", param_hint="--entry-point"
            )
        config["entry_point"] = entry_point
    else:
        if connect_timeout is not None:
            config["connect_timeout"] = connect_timeout
        if exclude_characters is not None:
            config["exclude_characters"] = exclude_characters
        if password_length is not None:
            if not 8 <= password_length <= 4096:
                raise click.BadParameter("must be 8 to 4096", param_hint="--password-length")
            config["password_length"] = password_length
    return config


@rotators.command("add")
@click.argument("name")
@click.option("--type", "kind", type=click.Choice(TYPES), required=True, help="Rotator type.")
@click.option("--account", default=None, help="Account id (default: the default account).")
@click.option("--region", default=None, help="Region (default: the server's region).")
@click.option("--url", default=None, help="http: the endpoint that receives the step events.")
@click.option("--hmac-key", default=None, help="http: hex signing key (default: generated).")
@click.option("--timeout", type=float, default=None, help="http: seconds per step (default 30).")
@click.option("--entry-point", default=None, help="python: module:function to call.")
@click.option("--connect-timeout", type=float, default=None, help="databases: login timeout (s).")
@click.option("--exclude-characters", default=None, help="databases: left out of new passwords.")
@click.option("--password-length", type=int, default=None, help="databases: new password length.")
@store_options
@json_option
def rotators_add(
    name: str,
    kind: str,
    account: str | None,
    region: str | None,
    url: str | None,
    hmac_key: str | None,
    timeout: float | None,
    entry_point: str | None,
    connect_timeout: float | None,
    exclude_characters: str | None,
    password_length: int | None,
    data_dir: Path | None,
    store: str | None,
    as_json: bool,
) -> None:
    """Register (or replace) rotator NAME; prints its ARN, and an http rotator's key once."""
    config = _config(
        kind,
        url,
        entry_point,
        timeout,
        hmac_key,
        connect_timeout,
        exclude_characters,
        password_length,
    )
    settings = build_settings(data_dir, store)
    account = account or settings.default_account_id
    if not (len(account) == 12 and account.isdigit()):
        raise click.BadParameter("must be 12 digits", param_hint="--account")
    record = RotatorRecord(
        name=name,
        account=account,
        region=region or settings.region,
        type=kind,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        config=config,
    )
    platform = open_admin_platform(settings)
    try:
        with admin_action(
            platform,
            "PutRotator",
            [(record.account, record.region)],
            command="strongroom rotators add",
            request_parameters={"name": name, "type": kind},
            resources=[resource(record.arn, _RESOURCE_TYPE)],
        ) as action:
            RotatorRegistry(platform.store).put(record)
            action.response = {"arn": record.arn}
    except AdminAuditError as exc:
        report_audit_failure(exc)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        platform.close()
    row: dict[str, Any] = {"Name": name, "Type": kind, "Arn": record.arn}
    if kind == "http":
        row["HmacKey"] = config["hmac_key"]
    title = "Rotator registered" + (" (the HMAC key is shown only now)" if kind == "http" else "")
    emit([row], list(row), as_json, title=title)


@rotators.command("list")
@click.option("--account", default=None, help="Only this account's rotators.")
@store_options
@json_option
def rotators_list(
    account: str | None, data_dir: Path | None, store: str | None, as_json: bool
) -> None:
    """List registered rotators (never their keys)."""
    platform = open_admin_platform(build_settings(data_dir, store))
    try:
        rows = [r.public() for r in RotatorRegistry(platform.store).list(account)]
    finally:
        platform.close()
    emit(rows, ["Name", "Type", "Arn", "Created"], as_json, title="Rotators")


def _describe_removal_error(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, LookupError):
        return "ResourceNotFoundException", str(exc)
    return type(exc).__name__, ""


@rotators.command("remove")
@click.argument("name")
@click.option("--account", default=None, help="Account id (default: the default account).")
@click.option("--region", default=None, help="Region (default: the server's region).")
@store_options
def rotators_remove(
    name: str, account: str | None, region: str | None, data_dir: Path | None, store: str | None
) -> None:
    """Unregister rotator NAME (secrets naming it then fail to rotate)."""
    settings = build_settings(data_dir, store)
    account = account or settings.default_account_id
    region = region or settings.region
    arn = rotator_arn(region, account, name)
    platform = open_admin_platform(settings)
    try:
        with admin_action(
            platform,
            "DeleteRotator",
            [(account, region)],
            command="strongroom rotators remove",
            request_parameters={"name": name},
            resources=[resource(arn, _RESOURCE_TYPE)],
            describe_error=_describe_removal_error,
        ):
            if not RotatorRegistry(platform.store).delete(account, region, name):
                raise LookupError(f"no rotator named {name}")
    except AdminAuditError as exc:
        report_audit_failure(exc)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        platform.close()
    console.print(f"Rotator {name} removed.")
