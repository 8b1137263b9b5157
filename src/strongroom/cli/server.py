"""``strongroom server``: initialise the data dir on first start, then serve."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from strongroom.audit.admin_events import AdminAuditError
from strongroom.cli.options import (
    EXIT_STORE_UNAVAILABLE,
    console,
    err_console,
    report_audit_failure,
    store_options,
)
from strongroom.config import Settings

if TYPE_CHECKING:
    from strongroom.platform import Platform


def write_admin_credentials(path: Path, access_key_id: str, secret: str) -> None:
    """An AWS shared-credentials file with profile [strongroom], mode 0600."""
    text = f"[strongroom]\naws_access_key_id = {access_key_id}\naws_secret_access_key = {secret}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def _ensure_default_account(platform: Platform) -> tuple[str, str] | None:
    """Create the default account on first start (recorded in its trail):
    its administrator's (access key id, secret), or None if it existed."""
    from strongroom.cli.admin import create_account_audited
    from strongroom.iam.identities import AccountExists

    account = platform.settings.default_account_id
    if platform.identities.read().account(account) is not None:
        return None
    try:
        return create_account_audited(platform, "default", account, command="strongroom server")
    except AccountExists:
        return None  # another node created it first (a shared PostgreSQL store)


def initialise(settings: Settings, seed: Path | None = None) -> None:
    """First start: root key, keyring, default account and its administrator;
    then, on every start, the KMS seed file (before any worker serves)."""
    from strongroom.bootstrap import open_platform

    platform = open_platform(settings)
    try:
        created = _ensure_default_account(platform)
        if seed is not None:
            from strongroom.cli.kms import print_seed_result, seed_audited

            print_seed_result(
                seed_audited(platform, seed, command="strongroom server --seed"), seed
            )
    finally:
        platform.close()
    creds_path = (settings.data_dir / "admin-credentials").resolve()
    if created is not None:
        write_admin_credentials(creds_path, *created)
        console.print(
            f"Initialised account {settings.default_account_id}; administrator credentials "
            f"written to [bold]{creds_path}[/] (profile [bold]strongroom[/])."
        )
    elif creds_path.exists():
        console.print(f"Administrator credentials: {creds_path} (profile strongroom)")
    if settings.dev:
        err_console.print(
            "[yellow]warning:[/] --dev: signatures are NOT verified and any credentials are "
            "accepted. Never expose this server to a network."
        )


def export_settings(settings: Settings) -> None:
    """Worker processes rebuild Settings from the environment (uvicorn --factory)."""
    env = {
        "HOST": settings.host,
        "PORT": str(settings.port),
        "DATA_DIR": str(settings.data_dir.resolve()),
        "STORE": settings.store,
        "TRUSTED_PROXIES": settings.trusted_proxies,
        "DEV": "1" if settings.dev else "0",
        "DEFAULT_ACCOUNT_ID": settings.default_account_id,
        "REGION": settings.region,
        "MAX_BODY_BYTES": str(settings.max_body_bytes),
        "LOG_LEVEL": settings.log_level,
        "AUDIT": "1" if settings.audit_enabled else "0",
        "AUDIT_RETENTION_DAYS": str(settings.audit_retention_days),
        "AUDIT_EXPORT_INTERVAL": repr(settings.audit_export_interval),
    }
    if settings.audit_export_dir is not None:
        env["AUDIT_EXPORT_DIR"] = str(settings.audit_export_dir.resolve())
    if settings.seed_file is not None:  # applied again by a dev-mode reset
        env["SEED"] = str(settings.seed_file.resolve())
    for name, value in env.items():
        os.environ[f"STRONGROOM_{name}"] = value


@click.command()
@click.option(
    "--host", default=None, help="Listen address (default 127.0.0.1). Env: STRONGROOM_HOST."
)
@click.option(
    "--port", type=int, default=None, help="Listen port (default 8700). Env: STRONGROOM_PORT."
)
@store_options
@click.option("--workers", type=int, default=None, help="Worker processes (default 1).")
@click.option("--tls-cert", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--tls-key", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option(
    "--trusted-proxies",
    default=None,
    metavar="ADDRESSES",
    help="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For "
    "and X-Forwarded-Proto headers are believed (default: none; the peer's address is the "
    "client's). Env: STRONGROOM_TRUSTED_PROXIES.",
)
@click.option(
    "--dev", is_flag=True, default=None, help="Insecure developer mode: accept any credentials."
)
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
@click.option(
    "--seed",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="STRONGROOM_SEED",
    default=None,
    help="KMS seed file (YAML) applied at every start (docs/design/kms-seeding.md). "
    "Env: STRONGROOM_SEED.",
)
@click.option(
    "--audit/--no-audit",
    envvar="STRONGROOM_AUDIT",
    default=None,
    help="Record every request in the CloudTrail audit trail (default on; off is for "
    "benchmark comparisons only). Env: STRONGROOM_AUDIT=1|0.",
)
@click.option(
    "--audit-retention-days",
    envvar="STRONGROOM_AUDIT_RETENTION_DAYS",
    type=click.IntRange(min=1),
    default=None,
    help="Delete audit events older than this (default 90). Env: STRONGROOM_AUDIT_RETENTION_DAYS.",
)
@click.option(
    "--audit-export-dir",
    envvar="STRONGROOM_AUDIT_EXPORT_DIR",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Continuously export CloudTrail log files and signed digests here (default: off). "
    "Env: STRONGROOM_AUDIT_EXPORT_DIR.",
)
@click.option(
    "--audit-export-interval",
    envvar="STRONGROOM_AUDIT_EXPORT_INTERVAL",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds between continuous export runs (default 60). "
    "Env: STRONGROOM_AUDIT_EXPORT_INTERVAL.",
)
def server(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    store: str | None,
    workers: int | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    trusted_proxies: str | None,
    dev: bool | None,
    log_level: str | None,
    seed: Path | None,
    audit: bool | None,
    audit_retention_days: int | None,
    audit_export_dir: Path | None,
    audit_export_interval: float | None,
) -> None:
    """Serve every Strongroom service on one endpoint."""
    import uvicorn

    from strongroom.cli.kms import EXIT_SEED_REJECTED, report_seed_error
    from strongroom.config import invalid_proxy_entries, settings_from_env
    from strongroom.gateway.http_server import GatewayHttpProtocol
    from strongroom.services.kms.seed_fields import SeedError

    settings = settings_from_env(
        host=host,
        port=port,
        data_dir=data_dir,
        store=store,
        workers=workers,
        tls_cert=tls_cert,
        tls_key=tls_key,
        trusted_proxies=trusted_proxies,
        dev=dev or None,
        log_level=log_level,
        audit_enabled=audit,
        audit_retention_days=audit_retention_days,
        audit_export_dir=audit_export_dir,
        audit_export_interval=audit_export_interval,
        seed_file=seed,
    )
    if (settings.tls_cert is None) != (settings.tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    if bad := invalid_proxy_entries(settings.trusted_proxies):
        raise click.UsageError(
            f"--trusted-proxies: not an IP address or network: {', '.join(map(repr, bad))}"
        )
    if not settings.audit_enabled:
        err_console.print(
            "[yellow]warning:[/] the audit trail is disabled (--no-audit / STRONGROOM_AUDIT=0): "
            "requests are NOT recorded."
        )
    try:
        initialise(settings, settings.seed_file)
    except AdminAuditError as exc:
        report_audit_failure(exc)
    except SeedError as exc:
        report_seed_error(exc)
        raise SystemExit(EXIT_SEED_REJECTED) from None
    except Exception as exc:
        err_console.print(f"[red]error:[/] cannot open the data store: {exc}")
        raise SystemExit(EXIT_STORE_UNAVAILABLE) from None
    export_settings(settings)
    scheme = "https" if settings.tls_cert else "http"
    options: dict[str, Any] = dict(
        app="strongroom.gateway.asgi:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        log_level=settings.log_level,
        access_log=False,
        loop="uvloop",
        # Our own HTTP/1.1 protocol on httptools, straight into the gateway
        # (gateway/http_server.py); uvicorn keeps sockets, TLS and workers.
        http=GatewayHttpProtocol,
        lifespan="on",
        # No "server: uvicorn" header: it only tells a client what to attack.
        server_header=False,
        # The protocol reads X-Forwarded-For itself, from --trusted-proxies
        # only (gateway/forwarded.py). uvicorn's own reading would believe
        # 127.0.0.1 by default: every local process could then pick its own
        # audited source address and satisfy aws:SourceIp conditions.
        proxy_headers=False,
    )
    if settings.workers > 1:
        # Not uvicorn's supervisor: its workers share one listening socket,
        # and under a burst of connections one worker takes nearly all of
        # them (docstring of strongroom.gateway.workers).
        _serve_workers(settings, options, scheme)
        return
    console.print(f"Strongroom listening on {scheme}://{settings.host}:{settings.port}")
    uvicorn.run(**options, workers=settings.workers)


def _serve_workers(settings: Settings, options: dict[str, Any], scheme: str) -> None:
    from strongroom.gateway.workers import STARTUP_FAILURE, StartupFailure, Supervisor

    try:
        supervisor = Supervisor(settings.workers, options)
    except OSError as exc:
        err_console.print(
            f"[red]error:[/] cannot listen on {settings.host}:{settings.port}: "
            f"{exc.strerror or exc}"
        )
        raise SystemExit(STARTUP_FAILURE) from None
    console.print(f"Strongroom listening on {scheme}://{settings.host}:{supervisor.port}")
    try:
        supervisor.run()
    except StartupFailure as exc:
        err_console.print(f"[red]error:[/] {exc}; the server has stopped (see the log above)")
        raise SystemExit(STARTUP_FAILURE) from None
