"""One typed settings object, built from CLI flags and ``STRONGROOM_*`` env.

No module-level state: the server, the admin commands and the tests each
build a :class:`Settings` and hand it down.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ACCOUNT_ID = "000000000000"
DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8700
    data_dir: Path = Path(".strongroom")
    # Database URL. Empty means SQLite at <data_dir>/strongroom.db.
    store: str = ""
    workers: int = 1
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # Addresses (or networks) of reverse proxies whose X-Forwarded-For and
    # X-Forwarded-Proto headers are believed, comma-separated; empty: none.
    # The client address is what the audit trail records as
    # sourceIPAddress and what aws:SourceIp conditions test, so trusting the
    # header from anyone else would let a client choose it.
    trusted_proxies: str = ""
    dev: bool = False
    default_account_id: str = DEFAULT_ACCOUNT_ID
    region: str = DEFAULT_REGION
    # Passphrase for the root key; when unset a generated key file is used.
    root_passphrase: str | None = field(default=None, repr=False)
    # Largest request body accepted, in bytes (AWS services cap at a few MB).
    max_body_bytes: int = 10 * 1024 * 1024
    log_level: str = "info"
    # The KMS seed file applied at every start (``strongroom server --seed``),
    # and again after a dev-mode reset.
    seed_file: Path | None = None
    # The audit trail (docs/design/audit.md). Disabling it is for benchmark
    # comparisons only: nothing is recorded and LookupEvents finds nothing.
    audit_enabled: bool = True
    audit_retention_days: int = 90
    # Continuous export: CloudTrail-style log and digest files written here,
    # new log files every ``audit_export_interval`` seconds, digests hourly.
    audit_export_dir: Path | None = None
    audit_export_interval: float = 60.0
    # How long the audit writer waits for the database before a batch (and
    # the requests in it) fails.
    audit_write_timeout: float = 10.0
    # "inline": each event loop appends its batches itself (SQLite);
    # "process": the loops hand batches to a writer process (PostgreSQL,
    # whose commits are network round trips); "thread": a writer thread.
    # "auto" picks inline for SQLite and process for PostgreSQL.
    audit_writer: str = "auto"
    # "normal": an event is in the database (it survives the server's
    # crash) before its response leaves, and on disk no later than any
    # change made after it: the store's own durable commits flush the
    # write-ahead log in order, request entries of mutating calls included.
    # A power loss can lose the newest events of read-only calls.
    # "full": every group commit waits for the disk as well (fsync).
    audit_sync: str = "normal"

    @property
    def store_url(self) -> str:
        if self.store:
            return self.store
        return f"sqlite:///{(self.data_dir / 'strongroom.db').resolve()}"

    @property
    def store_kind(self) -> str:
        return (
            "postgresql"
            if self.store_url.startswith(("postgres://", "postgresql://"))
            else "sqlite"
        )


ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_entries(trusted_proxies: str) -> tuple[bool, list[ProxyNetwork], list[str]]:
    """A ``trusted_proxies`` list read once for everyone who needs it:
    (``*`` was given, the addresses and networks, the entries that are
    neither: uvicorn would have quietly treated those as names that no TCP
    peer ever has; the server command refuses them)."""
    everyone = False
    networks: list[ProxyNetwork] = []
    bad: list[str] = []
    for entry in (e.strip() for e in trusted_proxies.split(",")):
        if entry == "*":
            everyone = True
            continue
        if not entry:  # a stray comma
            continue
        try:
            if "/" in entry:
                networks.append(ipaddress.ip_network(entry, strict=False))
            else:
                networks.append(ipaddress.ip_network(ipaddress.ip_address(entry)))
        except ValueError:
            bad.append(entry)
    return everyone, networks, bad


def invalid_proxy_entries(trusted_proxies: str) -> list[str]:
    """The entries of a ``trusted_proxies`` list that are neither an IP
    address, a network nor ``*``."""
    return proxy_entries(trusted_proxies)[2]


def _env(name: str) -> str | None:
    value = os.environ.get(f"STRONGROOM_{name}")
    return value if value not in (None, "") else None


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def settings_from_env(**overrides: object) -> Settings:
    """Settings from ``STRONGROOM_*`` variables; explicit overrides win.

    Overrides whose value is ``None`` are ignored, so CLI options that were
    not given fall through to the environment and then to the defaults.
    """
    values: dict[str, object] = {}
    if (v := _env("HOST")) is not None:
        values["host"] = v
    if (v := _env("PORT")) is not None:
        values["port"] = int(v)
    if (v := _env("DATA_DIR")) is not None:
        values["data_dir"] = Path(v)
    if (v := _env("STORE")) is not None:
        values["store"] = v
    if (v := _env("WORKERS")) is not None:
        values["workers"] = int(v)
    if (v := _env("TLS_CERT")) is not None:
        values["tls_cert"] = Path(v)
    if (v := _env("TLS_KEY")) is not None:
        values["tls_key"] = Path(v)
    if (v := _env("TRUSTED_PROXIES")) is not None:
        values["trusted_proxies"] = v
    if (v := _env("DEV")) is not None:
        values["dev"] = _truthy(v)
    if (v := _env("DEFAULT_ACCOUNT_ID")) is not None:
        values["default_account_id"] = v
    if (v := _env("REGION")) is not None:
        values["region"] = v
    if (v := _env("ROOT_PASSPHRASE")) is not None:
        values["root_passphrase"] = v
    if (v := _env("MAX_BODY_BYTES")) is not None:
        values["max_body_bytes"] = int(v)
    if (v := _env("LOG_LEVEL")) is not None:
        values["log_level"] = v
    if (v := _env("SEED")) is not None:
        values["seed_file"] = Path(v)
    if (v := _env("AUDIT")) is not None:
        values["audit_enabled"] = _truthy(v)
    if (v := _env("AUDIT_RETENTION_DAYS")) is not None:
        values["audit_retention_days"] = int(v)
    if (v := _env("AUDIT_EXPORT_DIR")) is not None:
        values["audit_export_dir"] = Path(v)
    if (v := _env("AUDIT_EXPORT_INTERVAL")) is not None:
        values["audit_export_interval"] = float(v)
    if (v := _env("AUDIT_WRITE_TIMEOUT")) is not None:
        values["audit_write_timeout"] = float(v)
    if (v := _env("AUDIT_WRITER")) is not None:
        values["audit_writer"] = v
    if (v := _env("AUDIT_SYNC")) is not None:
        values["audit_sync"] = v.lower()
    for key, value in overrides.items():
        if value is not None:
            is_path = key in {"data_dir", "tls_cert", "tls_key", "audit_export_dir", "seed_file"}
            values[key] = Path(str(value)) if is_path else value
    return Settings(**values)  # type: ignore[arg-type]
