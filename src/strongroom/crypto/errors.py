"""The barrier's one exception."""

from __future__ import annotations


class BarrierError(Exception):
    """A sealed record could not be opened: tampered, moved, or the wrong key.

    Messages name storage paths (which are never secret) and never key
    material or plaintext.
    """
