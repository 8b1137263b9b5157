"""The security barrier: every stored value is sealed on its way in.

Modelled on Vault's barrier. A value stored at ``path`` is::

    version (1 byte, 0x01) | term (4 bytes, big-endian) | nonce (12 bytes)
    | AES-256-GCM ciphertext + tag (16 bytes)

sealed with the data key of ``term`` and associated data
``version || term || path``. The path in the AAD means a value copied to
another key does not open; the header in the AAD means no header byte can be
changed without detection. Nonces are random: one term should seal well under
2**32 values, which rotation (``strongroom root rotate``) keeps true.

Several processes share one keyring through the store. Reads that meet a
term they do not know reload the keyring once; writers re-read the keyring
every ``refresh_interval`` seconds (one cheap get, compared bytewise) so a
rotation done elsewhere reaches them within that time. ``reseal_all`` waits
that long before its final pass for the same reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag

from strongroom.crypto.errors import BarrierError
from strongroom.crypto.keyring import (
    KEYRING_PATH,
    NONCE_BYTES,
    RESERVED_PREFIX,
    TAG_BYTES,
    Keyring,
    open_keyring,
    seal_keyring,
)
from strongroom.randpool import random_bytes
from strongroom.storage.base import Store, Txn

if TYPE_CHECKING:
    from strongroom.crypto.root_key import RootKeyProvider

__all__ = ["Barrier", "BarrierError", "ResealReport"]

log = logging.getLogger(__name__)

_VERSION = 1
_HEADER_BYTES = 5
_MIN_BLOB = _HEADER_BYTES + NONCE_BYTES + TAG_BYTES
# The version byte and term of sealed values, per term (every seal starts
# with one; building it cost 2,400 instructions per value).
_HEADERS: dict[int, bytes] = {}


def _header(term: int) -> bytes:
    header = _HEADERS[term] = bytes((_VERSION,)) + term.to_bytes(4, "big")
    return header


@dataclass
class ResealReport:
    scanned: int = 0
    resealed: int = 0
    passes: int = 0


class Barrier:
    """Seals and opens values with the keyring's terms.

    Build one with :func:`strongroom.crypto.root_key.open_barrier`. ``store``
    is the raw store holding ``core/keyring``; the barrier reads it to learn
    about rotations and writes it to rotate or re-key.
    """

    def __init__(
        self,
        store: Store,
        root_key: bytes,
        keyring: Keyring,
        keyring_blob: bytes,
        *,
        refresh_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._root = root_key
        self._ring = keyring
        self._blob = keyring_blob
        self.refresh_interval = refresh_interval
        self._clock = clock
        self._next_refresh = clock() + refresh_interval
        self._reload_lock = threading.Lock()

    # -- introspection ---------------------------------------------------------

    @property
    def active_term(self) -> int:
        return self._ring.active

    @property
    def terms(self) -> tuple[int, ...]:
        return tuple(sorted(self._ring.terms))

    @staticmethod
    def term_of(blob: bytes) -> int:
        """The term a sealed value was written under (no decryption)."""
        if len(blob) < _MIN_BLOB or blob[0] != _VERSION:
            raise BarrierError("sealed value is damaged or of an unknown version")
        return int.from_bytes(blob[1:_HEADER_BYTES], "big")

    # -- the hot path ----------------------------------------------------------

    def seal(self, path: str, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` for storage at ``path`` under the active term.

        Does no I/O; callers that write (SealedStore) call
        :meth:`refresh_if_due` first so that a rotation elsewhere is picked up.
        """
        ring = self._ring
        term = ring.active
        header = _HEADERS.get(term) or _header(term)
        nonce = random_bytes(NONCE_BYTES)
        sealed = ring.ciphers[term].encrypt(nonce, plaintext, header + path.encode())
        return b"".join((header, nonce, sealed))

    def seal_many(self, items: Sequence[tuple[str, bytes]]) -> list[bytes]:
        """:meth:`seal` of each ``(path, plaintext)``, with the keyring, the
        cipher and the nonces looked up and drawn once (the audit writer
        seals a batch of rows at a time)."""
        ring = self._ring
        term = ring.active
        header = _HEADERS.get(term) or _header(term)
        encrypt = ring.ciphers[term].encrypt
        nonces = random_bytes(NONCE_BYTES * len(items)) if items else b""
        out = []
        for i, (path, plaintext) in enumerate(items):
            nonce = nonces[i * NONCE_BYTES : (i + 1) * NONCE_BYTES]
            out.append(b"".join((header, nonce, encrypt(nonce, plaintext, header + path.encode()))))
        return out

    def open(self, path: str, blob: bytes) -> bytes:
        """Decrypt a value read from ``path``; BarrierError on any tampering."""
        if len(blob) < _MIN_BLOB or blob[0] != _VERSION:  # term_of, inlined: hot path
            raise BarrierError(f"value at {path!r} is damaged or of an unknown version")
        term = int.from_bytes(blob[1:_HEADER_BYTES], "big")
        cipher = self._ring.ciphers.get(term)
        if cipher is None:
            # Possibly sealed by another node after a rotation we have not
            # seen yet: learn the new keyring once, then decide.
            self.reload()
            cipher = self._ring.ciphers.get(term)
            if cipher is None:
                raise BarrierError(f"value at {path!r} names unknown keyring term {term}")
        nonce_end = _HEADER_BYTES + NONCE_BYTES
        try:
            return cipher.decrypt(
                blob[_HEADER_BYTES:nonce_end],
                blob[nonce_end:],
                blob[:_HEADER_BYTES] + path.encode(),
            )
        except InvalidTag:
            raise BarrierError(
                f"value at {path!r} failed authentication (altered, or moved from another path)"
            ) from None

    # -- keeping up with other nodes ---------------------------------------------

    def refresh_if_due(self, reader: Txn | None = None) -> None:
        """Re-read the keyring when ``refresh_interval`` has passed.

        ``reader`` lets a caller inside a transaction read through it. A
        keyring that no longer opens (re-keyed elsewhere) is logged and the
        keyring in memory kept: its data keys are unchanged by a re-key.
        """
        now = self._clock()
        if now < self._next_refresh:
            return
        self._next_refresh = now + self.refresh_interval
        try:
            self.reload(reader)
        except BarrierError as exc:
            log.warning("keeping the keyring in memory: %s", exc)

    def reload(self, reader: Txn | None = None) -> None:
        """Read ``core/keyring`` now and adopt it if it changed."""
        with self._reload_lock:
            blob = (reader or self._store).get(KEYRING_PATH)
            if blob is None:
                raise BarrierError("the store has no keyring (core/keyring is missing)")
            if blob == self._blob:
                return
            try:
                ring = open_keyring(self._root, blob)
            except BarrierError:
                self._blob = blob  # warn once per change, not on every refresh
                raise BarrierError(
                    "the stored keyring no longer opens with this process's root key; "
                    "it was probably re-keyed: restart with the new passphrase or key file"
                ) from None
            self._install(ring, blob)

    def _install(self, ring: Keyring, blob: bytes) -> None:
        self._ring = ring
        self._blob = blob
        self._next_refresh = self._clock() + self.refresh_interval

    # -- administration ----------------------------------------------------------

    def rotate(self) -> int:
        """Add a new term, active for new writes from now on; returns it.

        Reads the stored keyring inside the transaction, not the copy in
        memory, so concurrent rotations from two nodes both take effect.
        """
        with self._store.transaction() as txn:
            current = self._stored_keyring(txn)
            ring = current.rotated(time.time())
            blob = seal_keyring(self._root, ring)
            txn.put(KEYRING_PATH, blob)
        self._install(ring, blob)
        log.info("keyring rotated to term %d", ring.active)
        return ring.active

    def rekey(self, provider: RootKeyProvider) -> None:
        """Re-wrap the keyring under the root key ``provider`` supplies.

        Data keys are unchanged, so no value is re-encrypted. The provider
        writes its own records (a new passphrase salt) in the same
        transaction, so the store is never left half re-keyed. Other running
        nodes keep working with the keyring they hold but must be restarted
        with the new passphrase or key file before the next rotation.
        """
        with self._store.transaction() as txn:
            ring = self._stored_keyring(txn)  # proves we hold the current root
            new_root = provider.create(txn)
            blob = seal_keyring(new_root, ring)
            txn.put(KEYRING_PATH, blob)
        self._root = new_root
        self._install(ring, blob)
        log.info("keyring re-wrapped under a new root key")

    def _stored_keyring(self, txn: Txn) -> Keyring:
        blob = txn.get(KEYRING_PATH)
        if blob is None:
            raise BarrierError("the store has no keyring (core/keyring is missing)")
        return open_keyring(self._root, blob)

    def reseal_all(
        self,
        raw: Store,
        *,
        batch: int = 500,
        settle: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> ResealReport:
        """Re-encrypt every value not on the active term, while servers run.

        One batch per transaction keeps each write-lock hold short. Nodes
        that have not yet noticed the rotation may still write the old term
        for up to their refresh interval, so after a first pass this waits
        until ``settle`` seconds (default: this barrier's refresh interval
        plus one) have passed since the active term was created, then makes
        a final pass.
        """
        if batch < 1:
            raise ValueError("batch must be positive")
        self.reload()
        report = ResealReport()
        self._reseal_pass(raw, batch, report)
        settle = self.refresh_interval + 1.0 if settle is None else settle
        wait = self._ring.terms[self._ring.active].created + settle - time.time()
        if wait > 0:
            sleep(wait)
        self.reload()
        self._reseal_pass(raw, batch, report)
        return report

    def _reseal_pass(self, raw: Store, batch: int, report: ResealReport) -> None:
        after = ""
        while True:
            with raw.transaction() as txn:
                rows = txn.scan("", start_after=after, limit=batch)
                active = self._ring.active
                for key, blob in rows:
                    if key.startswith(RESERVED_PREFIX):
                        continue
                    report.scanned += 1
                    if self.term_of(blob) == active:
                        continue
                    txn.put(key, self.seal(key, self.open(key, blob)))
                    report.resealed += 1
            if len(rows) < batch:
                break
            after = rows[-1][0]
        report.passes += 1
