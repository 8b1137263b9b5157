"""The platform object: everything a request may need, built once per process.

Nothing here is a module global: the server builds one Platform per worker
process, the admin CLI builds its own against the same store, and tests
build as many as they like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from strongroom.config import Settings

if TYPE_CHECKING:
    from strongroom.context import Authorizer
    from strongroom.crypto.barrier import Barrier
    from strongroom.iam.identities import IdentityStore
    from strongroom.services.base import Service
    from strongroom.storage.base import Store


@dataclass
class Platform:
    settings: Settings
    # The sealed store: every value is encrypted by the barrier on the way in.
    store: Store
    barrier: Barrier
    identities: IdentityStore
    authorizer: Authorizer
    clock: Callable[[], datetime]
    services: dict[str, Service] = field(default_factory=dict)
