"""``strongroom kms``: declarative seeding and the usage report.

Both open the store directly, like the other admin commands, so they work
while a server runs (a running server sees seeded changes within its
two-second key cache). Applying a seed file records an audit event
(``ApplySeed``, audit/admin_events.py) in each account and region the
file names.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.table import Table

from strongroom.audit.admin_events import AdminAuditError, admin_action, resource
from strongroom.cli.options import (
    build_settings,
    console,
    json_option,
    open_admin_platform,
    report_audit_failure,
    store_options,
)

if TYPE_CHECKING:
    from strongroom.platform import Platform
    from strongroom.services.kms.seed import SeedResult
    from strongroom.services.kms.seed_fields import SeedError
    from strongroom.services.kms.usage_report import UsageReport

# The seed file is invalid, or conflicts with the keys in the store.
EXIT_SEED_REJECTED = 4


@click.group()
def kms() -> None:
    """KMS administration: seed keys from a file, report usage and cost."""


def report_seed_error(exc: SeedError) -> None:
    """Every problem, one per line (FILE:LINE: PATH: message), on stderr."""
    click.echo(f"error: the seed file was not applied ({len(exc.problems)} problems):", err=True)
    for problem in exc.problems:
        click.echo(f"  {problem}", err=True)


def print_seed_result(result: SeedResult, source: Path) -> None:
    for arn in result.created:
        click.echo(f"created   {arn}")
    for arn, changes in result.updated.items():
        click.echo(f"updated   {arn}: {', '.join(changes)}")
    for line in result.aliases:
        click.echo(f"alias     {line}")
    click.echo(
        f"Seed {source}: {len(result.created)} created, {len(result.updated)} updated, "
        f"{len(result.unchanged)} unchanged, {len(result.aliases)} alias changes."
    )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


def _in_partition(arn: str, account: str, region: str) -> bool:
    parts = arn.split(":", 5)
    return len(parts) == 6 and parts[3] == region and parts[4] == account


def _describe_seed_error(exc: Exception) -> tuple[str, str]:
    from strongroom.services.kms.seed_fields import SeedError

    if isinstance(exc, SeedError):
        # The problems quote the file; the event says how many, not what.
        return "SeedRejected", f"{len(exc.problems)} problems; nothing was changed"
    return type(exc).__name__, ""


def seed_audited(platform: Platform, file: Path, *, command: str) -> SeedResult:
    """Apply a seed file, recorded in the trail of every account and region
    it names (an invalid file, rejected before the store is touched, is not)."""
    from strongroom.services.kms.seed import load_seed_file, seed_platform

    settings = platform.settings
    seed = load_seed_file(
        file, default_account=settings.default_account_id, default_region=settings.region
    )
    named = {(k.account, k.region) for k in seed.keys} | {
        (a.account, a.region) for a in seed.aliases
    }
    partitions = sorted(named) or [(settings.default_account_id, settings.region)]
    with admin_action(
        platform,
        "ApplySeed",
        partitions,
        command=command,
        request_parameters={"file": str(file.resolve())},
        describe_error=_describe_seed_error,
    ) as action:
        result = seed_platform(platform, file)
        action.resources = [resource(arn) for arn in [*result.created, *result.updated]]

        def response(account: str, region: str) -> dict[str, Any]:
            return {
                "created": [a for a in result.created if _in_partition(a, account, region)],
                "updated": {
                    a: c for a, c in result.updated.items() if _in_partition(a, account, region)
                },
                "unchanged": sum(_in_partition(a, account, region) for a in result.unchanged),
                "aliasChangesInFile": len(result.aliases),
            }

        action.response_for = response
    return result


@kms.command("seed")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--check", is_flag=True, help="Only validate the file; do not open the store.")
@store_options
@json_option
def kms_seed(
    file: Path, check: bool, data_dir: Path | None, store: str | None, as_json: bool
) -> None:
    """Create or update the keys and aliases FILE declares (YAML, idempotent).

    The same file is what `strongroom server --seed FILE` applies at every
    start. See docs/design/kms-seeding.md for the format. Exit status 4 when
    the file is invalid or contradicts the stored keys (nothing is changed).
    """
    from strongroom.services.kms.seed import load_seed_file
    from strongroom.services.kms.seed_fields import SeedError

    settings = build_settings(data_dir, store)
    try:
        if check:
            seed = load_seed_file(
                file,
                default_account=settings.default_account_id,
                default_region=settings.region,
            )
            click.echo(f"{file}: valid ({len(seed.keys)} keys, {len(seed.aliases)} aliases).")
            return
        platform = open_admin_platform(settings)
        try:
            result = seed_audited(platform, file, command="strongroom kms seed")
        finally:
            platform.close()
    except AdminAuditError as exc:
        report_audit_failure(exc)
    except SeedError as exc:
        report_seed_error(exc)
        raise SystemExit(EXIT_SEED_REJECTED) from None
    if as_json:
        out = {
            "Created": result.created,
            "Updated": result.updated,
            "Unchanged": result.unchanged,
            "Aliases": result.aliases,
            "Warnings": result.warnings,
        }
        click.echo(json.dumps(out, indent=2))
        return
    print_seed_result(result, file)


def _moment(value: str | None, name: str, default: datetime) -> datetime:
    if value is None:
        return default
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not an ISO 8601 date or time (e.g. 2024-05-01 or 2024-05-01T12:00:00Z)",
            param_hint=name,
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@kms.command("usage")
@click.option("--since", default=None, help="Start (ISO 8601; default: this month's start, UTC).")
@click.option("--until", default=None, help="End, exclusive (ISO 8601; default: now).")
@click.option("--account", default=None, help="Only this account (default: every account).")
@store_options
@json_option
def kms_usage(
    since: str | None,
    until: str | None,
    account: str | None,
    data_dir: Path | None,
    store: str | None,
    as_json: bool,
) -> None:
    """Requests per key and operation, and their cost at AWS's prices.

    Monthly key fees are prorated by the hour; request counts are kept in
    hourly buckets and reach the store within seconds of the requests.
    """
    from strongroom.services.kms.usage_report import build_report

    now = datetime.now(UTC)
    start = _moment(since, "--since", now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    end = _moment(until, "--until", now)
    if end <= start:
        raise click.BadParameter("must be later than --since", param_hint="--until")
    if account is not None and not (len(account) == 12 and account.isdigit()):
        raise click.BadParameter("must be a 12-digit account id", param_hint="--account")
    platform = open_admin_platform(build_settings(data_dir, store))
    try:
        report = build_report(platform.store, since=start, until=end, account=account)
    finally:
        platform.close()
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2))
        return
    print_report(report)


def _usd(value: Any) -> str:
    """Request charges are fractions of a cent: show them, not $0.00."""
    if value == 0:
        return "$0"
    if value < Decimal("0.01"):
        return f"${value:.6f}"
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def print_report(report: UsageReport) -> None:
    from strongroom.services.kms import pricing

    whose = f"account {report.account}" if report.account else "all accounts"
    table = Table(
        title=f"KMS usage, {whose}, {report.since:%Y-%m-%d %H:%M} to "
        f"{report.until:%Y-%m-%d %H:%M} UTC"
    )
    for column in ("Key", "Spec", "Operation"):
        table.add_column(column)
    for column in ("Requests", "Price", "Cost"):
        table.add_column(column, justify="right")
    for key in report.keys:
        name = key.key_id if not key.aliases else f"{key.key_id}\n{', '.join(key.aliases)}"
        if not key.exists:
            name += "\n(deleted)"
        label = f"{key.account} {key.region}\n{name}"
        first = True
        if key.storage is not None and key.storage.hours > 0:
            rotations = (
                f" + {key.storage.billed_rotations} rotation(s)"
                if key.storage.billed_rotations
                else ""
            )
            table.add_row(
                label,
                key.key_spec,
                f"key storage{rotations}",
                f"{key.storage.key_months:.3f} mo",
                f"${pricing.KEY_MONTH}/mo",
                _usd(key.storage_cost),
            )
            first = False
        for op in sorted(key.operations.values(), key=lambda o: o.operation):
            table.add_row(
                label if first else "",
                key.key_spec if first else "",
                op.operation,
                f"{op.requests:,}",
                f"${op.price_per_10k}/10k",
                _usd(op.cost),
            )
            first = False
        table.add_section()
    table.add_row(
        "Total", "", "", f"{report.requests:,}", "", _usd(report.total_cost), style="bold"
    )
    console.print(table)
    click.echo(
        f"Requests {_usd(report.request_cost)}, key storage {_usd(report.storage_cost)}. "
        f"AWS list prices as of {pricing.PRICES_AS_OF}; the free tier "
        f"({pricing.FREE_TIER_REQUESTS:,} requests a month) is not deducted."
    )
