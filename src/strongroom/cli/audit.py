"""``strongroom audit``: search, tail, export and verify the audit trail.

Like every admin command these open the store directly (``--data-dir`` /
``--store``) and work while a server runs: they only read, except export,
which keeps its position and digest chain in the store.
"""

from __future__ import annotations

import json as jsonlib
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from strongroom.cli.options import build_settings, console, emit, json_option, store_options

ATTRIBUTE_OPTIONS = {
    "event_id": "EventId",
    "event_name": "EventName",
    "event_source": "EventSource",
    "username": "Username",
    "access_key_id": "AccessKeyId",
    "resource_type": "ResourceType",
    "resource_name": "ResourceName",
    "read_only": "ReadOnly",
}
COLUMNS = ["Time", "Account", "Region", "Source", "Event", "User", "Error", "SourceIP", "EventId"]


def filter_options(func: Any) -> Any:
    for name in reversed(list(ATTRIBUTE_OPTIONS)):
        flag = "--" + name.replace("_", "-")
        func = click.option(
            flag, name, default=None, help=f"Only {ATTRIBUTE_OPTIONS[name]}=VALUE."
        )(func)
    func = click.option("--region", default=None, help="Only this region.")(func)
    func = click.option("--account", default=None, help="Only this account (default: all).")(func)
    return func


def _attribute(filters: dict[str, str | None]) -> tuple[str | None, str | None]:
    given = [(ATTRIBUTE_OPTIONS[k], v) for k, v in filters.items() if v is not None]
    if len(given) > 1:
        raise click.UsageError("give at most one attribute filter (as LookupEvents does)")
    return given[0] if given else (None, None)


def _row(record: dict[str, Any]) -> dict[str, Any]:
    from strongroom.audit.filters import username_of

    return {
        "Time": record.get("eventTime", ""),
        "Account": record.get("recipientAccountId", ""),
        "Region": record.get("awsRegion", ""),
        "Source": str(record.get("eventSource", "")).split(".", 1)[0],
        "Event": record.get("eventName", ""),
        "User": username_of(record) or (record.get("userIdentity") or {}).get("type", ""),
        "Error": record.get("errorCode", ""),
        "SourceIP": record.get("sourceIPAddress", ""),
        "EventId": record.get("eventID", ""),
    }


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _open(data_dir: Path | None, store: str | None) -> Any:
    from strongroom.bootstrap import open_platform

    platform = open_platform(build_settings(data_dir, store))
    if platform.audit is None:
        platform.close()
        raise click.ClickException("the audit trail is disabled (STRONGROOM_AUDIT=0)")
    return platform


@click.group()
def audit() -> None:
    """The CloudTrail audit trail: search, follow, export, verify."""


@audit.command("search")
@filter_options
@click.option("--start", default=None, help="Events at or after this ISO 8601 time.")
@click.option("--end", default=None, help="Events at or before this ISO 8601 time.")
@click.option("--max", "limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@store_options
@json_option
def audit_search(
    account: str | None,
    region: str | None,
    start: str | None,
    end: str | None,
    limit: int,
    data_dir: Path | None,
    store: str | None,
    as_json: bool,
    **filters: str | None,
) -> None:
    """Events newest first, filtered like LookupEvents (one attribute at most)."""
    from strongroom.audit.log import LookupQuery
    from strongroom.audit.trail import to_us

    attribute, value = _attribute(filters)
    begin, finish = _time(start), _time(end)
    platform = _open(data_dir, store)
    try:
        query = LookupQuery(
            account,
            region,
            attribute,
            value,
            to_us(begin) if begin else None,
            to_us(finish) if finish else None,
            limit,
        )
        events = platform.audit.lookup(query)
    finally:
        platform.close()
    if as_json:
        click.echo(jsonlib.dumps([e.record for e in events], indent=2))
        return
    emit([_row(e.record) for e in events], COLUMNS, False, title=f"{len(events)} events")


@audit.command("tail")
@filter_options
@click.option("-n", "--lines", type=click.IntRange(0, 10_000), default=10, show_default=True)
@click.option("--follow/--no-follow", default=True, show_default=True)
@click.option("--interval", type=float, default=1.0, show_default=True, help="Poll seconds.")
@store_options
@json_option
def audit_tail(
    account: str | None,
    region: str | None,
    lines: int,
    follow: bool,
    interval: float,
    data_dir: Path | None,
    store: str | None,
    as_json: bool,
    **filters: str | None,
) -> None:
    """The last events, then new ones as they are recorded (Ctrl-C stops).

    JSON output is one record per line (JSON Lines).
    """
    from strongroom.audit.filters import matches

    attribute, value = _attribute(filters)
    platform = _open(data_dir, store)
    trail = platform.audit

    def wanted(record: dict[str, Any]) -> bool:
        if account is not None and record.get("recipientAccountId") != account:
            return False
        if region is not None and record.get("awsRegion") != region:
            return False
        return matches(record, attribute, value)

    def show(record: dict[str, Any]) -> None:
        if as_json:
            click.echo(jsonlib.dumps(record, separators=(",", ":")))
        else:
            r = _row(record)
            click.echo(
                f"{r['Time']} {r['Account']} {r['Region']} {r['Source']}:{r['Event']} "
                f"{r['User']} {r['Error'] or 'OK'} {r['SourceIP']} {r['EventId']}"
            )

    try:
        cursor = trail.log.last_seq()
        # The last N matching events: walk back from the end in pages.
        backlog: list[dict[str, Any]] = []
        start = cursor
        while lines and len(backlog) < lines and start > 0:
            begin = max(0, start - 1000)
            page = [trail.open(s).record for s in trail.log.after(begin, start - begin)]
            backlog = [r for r in page if wanted(r)] + backlog
            start = begin
        for record in backlog[-lines:] if lines else []:
            show(record)
        while follow:
            time.sleep(interval)
            for stored in trail.log.after(cursor, 1000):
                cursor = stored.seq
                record = trail.open(stored).record
                if wanted(record):
                    show(record)
    except KeyboardInterrupt:
        pass
    finally:
        platform.close()


@audit.command("export")
@click.option(
    "--to",
    "dest",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for AWSLogs/... log and digest files.",
)
@click.option("--bucket", default=None, help="Bucket name written into digests.")
@store_options
@json_option
def audit_export(
    dest: Path, bucket: str | None, data_dir: Path | None, store: str | None, as_json: bool
) -> None:
    """Write every event not yet exported to DEST, and sign a digest per
    account and region (CloudTrail log file integrity validation)."""
    from strongroom.audit.export import ExportBusy, Exporter
    from strongroom.audit.files import DEFAULT_BUCKET

    platform = _open(data_dir, store)
    try:
        exporter = Exporter(platform.audit, platform.store, dest, bucket=bucket or DEFAULT_BUCKET)
        try:
            report = exporter.run(platform.clock())
        except ExportBusy as exc:
            raise click.ClickException(str(exc)) from None
    finally:
        platform.close()
    row = {
        "Destination": report.destination,
        "Events": report.events,
        "LogFiles": report.log_files,
        "Digests": report.digests,
    }
    if as_json:
        emit([row], list(row), True)
    else:
        console.print(
            f"Exported {report.events} events in {report.log_files} log files and "
            f"{report.digests} digests to {report.destination}"
        )


@audit.command("verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--allow-pending",
    is_flag=True,
    help="Do not fail for log files newer than the last digest (continuous export).",
)
@click.option(
    "--pin/--no-pin",
    default=None,
    help="Check signatures with the keys in the store, and that no newest digest is "
    "missing (default: when --data-dir or --store is given).",
)
@store_options
@json_option
def audit_verify(
    directory: Path,
    allow_pending: bool,
    pin: bool | None,
    data_dir: Path | None,
    store: str | None,
    as_json: bool,
) -> None:
    """Validate an export: digest signatures and chain, log file hashes.

    Reports file by file what was modified, deleted or inserted; exits 0
    only when everything verifies.
    """
    from strongroom.audit.verify import Finding, verify_export

    keys = heads = None
    if pin is None:
        pin = data_dir is not None or store is not None
    if pin:
        keys, heads = _pinned(directory, data_dir, store)
    report = verify_export(directory, public_keys=keys, expected_heads=heads)
    problems = [r for r in report.results if r.finding is not Finding.OK]
    ok = report.ok(allow_pending=allow_pending)
    if as_json:
        click.echo(
            jsonlib.dumps(
                {
                    "ok": ok,
                    "digests_valid": report.digests_valid,
                    "log_files_valid": report.log_files_valid,
                    "results": [
                        {"finding": r.finding.value, "path": r.path, "detail": r.detail}
                        for r in report.results
                    ],
                },
                indent=2,
            )
        )
    else:
        # Plain lines (no wrapping): one file per line, for people and grep.
        for result in problems:
            click.echo(f"{result.finding.value:9} {result.path}  {result.detail}")
        click.echo(
            f"{'OK' if ok else 'FAILED'}: {report.digests_valid} digests and "
            f"{report.log_files_valid} log files valid; {len(problems)} problems"
        )
    raise SystemExit(0 if ok else 1)


def _pinned(
    directory: Path, data_dir: Path | None, store: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Public keys and newest digests as the exporting store knows them."""
    from strongroom.audit.digest_keys import DigestKeys, load_public_pem, public_fingerprint
    from strongroom.audit.export import Exporter

    platform = _open(data_dir, store)
    try:
        keys: dict[str, Any] = {}
        digest_keys = DigestKeys(platform.store)
        logs = directory / "AWSLogs"
        for account_dir in sorted(logs.iterdir()) if logs.is_dir() else []:
            public = digest_keys.public_key(account_dir.name)
            if public is not None:
                key = load_public_pem(public.pem())
                keys[public_fingerprint(key)] = key
        heads = Exporter(platform.audit, platform.store, directory).expected_heads()
    finally:
        platform.close()
    return keys, heads
