"""Options shared by the server and every admin command.

Admin commands open the same store as a running server (``--data-dir`` /
``--store``), so they work while it runs: SQLite in WAL mode and PostgreSQL
both allow concurrent processes.
"""

from __future__ import annotations

import json as jsonlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.table import Table

from strongroom.config import Settings, settings_from_env

if TYPE_CHECKING:
    from strongroom.audit.admin_events import AdminAuditError
    from strongroom.platform import Platform

# Exit codes: 0 success, 1 a negative answer (denied, verification failed),
# 2 usage error (click), 3 the data store could not be opened, 4 a seed file
# rejected (cli/kms.py), 5 the audit event of an admin action could not be
# written (fail-closed, as the API answers 503/500).
EXIT_STORE_UNAVAILABLE = 3
EXIT_AUDIT_UNAVAILABLE = 5

F = TypeVar("F", bound=Callable[..., Any])

console = Console()
err_console = Console(stderr=True)


def store_options(func: F) -> F:
    func = click.option(
        "--store",
        default=None,
        help="Database URL (default: SQLite in the data dir; postgresql://… for multi-node). "
        "Env: STRONGROOM_STORE.",
    )(func)
    func = click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="State directory (default ./.strongroom). Env: STRONGROOM_DATA_DIR.",
    )(func)
    return func


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable JSON output.")(
        func
    )


def build_settings(data_dir: Path | None, store: str | None, **extra: Any) -> Settings:
    return settings_from_env(data_dir=data_dir, store=store, **extra)


def emit(
    rows: Sequence[dict[str, Any]], columns: Sequence[str], as_json: bool, title: str = ""
) -> None:
    """Print rows as a rich table for people or as JSON for scripts."""
    if as_json:
        click.echo(jsonlib.dumps(list(rows), indent=2, default=str))
        return
    table = Table(title=title or None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(row.get(c, "")) for c in columns))
    console.print(table)


def open_admin_platform(settings: Settings) -> Platform:
    """Open the store for an admin command; a clear message instead of a trace."""
    from strongroom.bootstrap import open_platform

    try:
        return open_platform(settings)
    except Exception as exc:
        err_console.print(f"[red]error:[/] cannot open the data store: {exc}")
        raise SystemExit(EXIT_STORE_UNAVAILABLE) from None


def report_audit_failure(exc: AdminAuditError) -> NoReturn:
    """An admin action whose audit record could not be written: say whether
    anything changed, exit non-zero (never report success unrecorded)."""
    click.echo(f"error: {exc}", err=True)  # one unwrapped line, for scripts and logs
    raise SystemExit(EXIT_AUDIT_UNAVAILABLE)
