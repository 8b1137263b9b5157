"""Open the audit log and trail for a platform's database."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from strongroom.audit.backends import open_audit_log
from strongroom.audit.indexer_process import IndexerProcess, QuietIndexer
from strongroom.audit.sealing import Sealer
from strongroom.audit.sqlite_log import SqliteAuditLog
from strongroom.audit.trail import AsyncWriter, AuditTrail
from strongroom.audit.writer_inline import InlineWriter
from strongroom.audit.writer_process import ProcessWriter
from strongroom.config import Settings

if TYPE_CHECKING:
    from strongroom.platform import Platform


def open_trail(
    settings: Settings, sealer: Sealer, account_exists: Callable[[str], bool]
) -> AuditTrail | None:
    if not settings.audit_enabled:
        return None
    kind = settings.audit_writer
    if kind == "auto":
        kind = "inline" if settings.store_url.startswith("sqlite:") else "process"
    audit_log = open_audit_log(
        settings.store_url,
        write_timeout=settings.audit_write_timeout,
        sync=settings.audit_sync,
        # Workers of an inline setup write to the spool, not the database:
        # the indexer process appends, and its commits checkpoint.
    )
    async_writer: AsyncWriter | None = None
    if kind == "inline":
        if not isinstance(audit_log, SqliteAuditLog):
            raise ValueError("STRONGROOM_AUDIT_WRITER=inline needs a SQLite store")
        async_writer = InlineWriter(
            audit_log.spool_writer(), sealer, sync_every_batch=settings.audit_sync == "full"
        )
    elif kind == "process":
        async_writer = ProcessWriter(settings)
    return AuditTrail(
        audit_log,
        sealer,
        account_exists,
        retention_days=settings.audit_retention_days,
        async_writer=async_writer,
    )


def install_audit(platform: Platform) -> None:
    """Open the trail of ``platform`` and register its background jobs."""
    settings = platform.settings

    def account_exists(account_id: str) -> bool:
        return platform.identities.read().account(account_id) is not None

    trail = open_trail(settings, platform.barrier, account_exists)
    platform.audit = trail
    if trail is None:
        return
    # The lookup index is built in bulk when appends pause (it also catches
    # up after a crash): by a process of its own beside a server's event
    # loops, in the leader's job thread otherwise (the PostgreSQL writer
    # processes also index as they go).
    if isinstance(trail.async_writer, InlineWriter):
        indexer = IndexerProcess(settings.store_url, settings.audit_write_timeout)
        platform.on_close.append(indexer.close)
        platform.jobs.add("audit-index", 1, indexer.ensure)
    else:
        platform.jobs.add("audit-index", 1, QuietIndexer(trail.log).run)
    platform.jobs.add("audit-retention", 3600, trail.expire)
    platform.jobs.add("audit-recover-abandoned", 60, trail.recover_abandoned)
    if settings.audit_export_dir is not None:
        from strongroom.audit.export import Exporter

        exporter = Exporter(trail, platform.store, settings.audit_export_dir)
        platform.jobs.add(
            "audit-continuous-export", settings.audit_export_interval, exporter.continuous
        )
