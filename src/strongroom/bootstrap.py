"""Build a Platform from Settings: store, barrier, identities, services."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from strongroom.audit.factory import install_audit
from strongroom.authz.authorizer import PolicyAuthorizer
from strongroom.config import Settings
from strongroom.crypto.root_key import (
    KeyFileProvider,
    PassphraseProvider,
    RootKeyProvider,
    open_barrier,
)
from strongroom.iam.identities import IdentityStore
from strongroom.jobs.runner import LOCK_NAME, JobRunner
from strongroom.platform import Platform
from strongroom.services.registry import SERVICE_CLASSES
from strongroom.storage.factory import open_store
from strongroom.storage.sealed import SealedStore

log = logging.getLogger("strongroom")


def utc_now() -> datetime:
    return datetime.now(UTC)


def root_key_provider(settings: Settings) -> RootKeyProvider:
    if settings.root_passphrase:
        return PassphraseProvider(settings.root_passphrase)
    return KeyFileProvider(settings.data_dir / "root.key")


def open_platform(settings: Settings) -> Platform:
    """Open (and on first use initialise) the store and barrier behind ``settings``."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    raw = open_store(settings.store_url)
    try:
        barrier = open_barrier(raw, root_key_provider(settings))
    except Exception:
        raw.close()
        raise
    store = SealedStore(raw, barrier)
    identities = IdentityStore(store, utc_now)
    platform = Platform(
        settings=settings,
        store=store,
        raw_store=raw,
        barrier=barrier,
        identities=identities,
        authorizer=PolicyAuthorizer(identities),
        clock=utc_now,
        jobs=JobRunner(raw.leader_lock(LOCK_NAME), utc_now),
    )
    platform.jobs.add("purge-expired-sessions", 60, identities.purge_expired_sessions)
    platform.services = {name: cls(platform) for name, cls in SERVICE_CLASSES.items()}
    platform.on_reset.append(identities.clear_cache)
    install_audit(platform)
    return platform
