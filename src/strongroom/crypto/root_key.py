"""Root-key providers, and opening the barrier with one.

The root key seals only the keyring. Where it comes from is the deployment's
choice:

- ``PassphraseProvider``: Argon2id over an operator's passphrase, with a
  random salt and the KDF parameters stored in the clear at
  ``core/root-salt`` (neither is secret; storing the parameters lets them be
  raised later without breaking old stores).
- ``KeyFileProvider``: 32 random bytes in a file beside the data. Convenient
  for development, but whoever can read the data directory can read every
  secret, so it always warns.

A wrong passphrase or key file shows up as a keyring that does not open:
AES-GCM authentication is the check, nothing about the key is stored.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from strongroom.crypto.barrier import Barrier
from strongroom.crypto.errors import BarrierError
from strongroom.crypto.keyring import (
    KEY_BYTES,
    KEYRING_PATH,
    ROOT_SALT_PATH,
    Keyring,
    open_keyring,
    seal_keyring,
)
from strongroom.fsutil import fsync_dir
from strongroom.storage.base import Store, Txn

log = logging.getLogger(__name__)

KEY_FILE_WARNING = (
    "the root key is a plain key file ({path}): anyone who can read it and the "
    "database can read every secret. In production use a passphrase "
    "(STRONGROOM_ROOT_PASSPHRASE) or an HSM."
)


class RootKeyProvider(ABC):
    """Supplies the root key for a store.

    ``create`` is called inside the transaction that initialises (or
    re-keys) the store and may write the provider's own records there;
    ``load`` is called for a store that already has a keyring.
    """

    #: Set after use when an operator should be told something (the CLI prints it).
    warning: str | None = None

    @abstractmethod
    def create(self, txn: Txn) -> bytes: ...

    @abstractmethod
    def load(self, reader: Txn) -> bytes: ...


class KeyFileProvider(RootKeyProvider):
    """A 32-byte root key in a file, generated on first use with mode 0600."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(os.fspath(path))
        #: True when this provider generated the file (a new store).
        self.generated = False

    def create(self, txn: Txn) -> bytes:
        key = self._read() if os.path.exists(self.path) else self._generate()
        # A store re-keyed from a passphrase to a key file drops the salt,
        # so nothing suggests a passphrase would open it.
        txn.delete(ROOT_SALT_PATH)
        self._warn()
        return key

    def load(self, reader: Txn) -> bytes:
        if not os.path.exists(self.path):
            raise BarrierError(
                f"root key file {self.path} not found, and the store already has a keyring: "
                "point at the key file it was created with, or use its passphrase"
            )
        self._warn()
        return self._read()

    def _warn(self) -> None:
        self.warning = KEY_FILE_WARNING.format(path=self.path)
        log.warning(self.warning)

    def _read(self) -> bytes:
        with open(self.path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read(4096)
        if mode & 0o077:
            log.warning("root key file %s is readable by other users: chmod 600 it", self.path)
        if len(data) == KEY_BYTES:
            return data
        try:
            key = base64.b64decode(data.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise BarrierError(f"root key file {self.path} does not hold a {KEY_BYTES}-byte key")
        return key

    def _generate(self) -> bytes:
        """Write a new key without ever exposing a half-written file.

        The key goes to a private temporary file (O_CREAT|O_EXCL, 0600) that
        is then hard-linked into place, which fails if another process won
        the race; the loser reads the winner's key.
        """
        key = os.urandom(KEY_BYTES)
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            try:
                os.write(fd, base64.b64encode(key) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                return self._read()
        finally:
            os.unlink(tmp)
        fsync_dir(directory)
        self.generated = True
        log.warning("generated a new root key file at %s", self.path)
        return key


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost. The default takes ~0.2 s and 64 MiB on the reference machine."""

    memory_cost_kib: int = 64 * 1024
    iterations: int = 3
    lanes: int = 4

    def check(self) -> None:
        # Bounds also stop a tampered salt record from asking for 1 TiB.
        if not (1 <= self.lanes <= 64 and 1 <= self.iterations <= 100):
            raise BarrierError("root KDF parameters are out of range")
        if not 8 * self.lanes <= self.memory_cost_kib <= 4 * 1024 * 1024:
            raise BarrierError("root KDF memory cost is out of range")


DEFAULT_KDF = KdfParams()
_SALT_BYTES = 16


class PassphraseProvider(RootKeyProvider):
    """Root key = Argon2id(passphrase, salt) with the salt kept at ``core/root-salt``."""

    def __init__(self, passphrase: str | bytes, *, params: KdfParams = DEFAULT_KDF) -> None:
        secret = passphrase.encode() if isinstance(passphrase, str) else bytes(passphrase)
        if not secret:
            raise ValueError("the root passphrase must not be empty")
        params.check()
        self._secret = secret
        self._params = params

    def __repr__(self) -> str:
        return f"PassphraseProvider(params={self._params})"

    def create(self, txn: Txn) -> bytes:
        salt = os.urandom(_SALT_BYTES)
        record = {
            "kdf": "argon2id",
            "salt": base64.b64encode(salt).decode(),
            "length": KEY_BYTES,
            "memory_cost_kib": self._params.memory_cost_kib,
            "iterations": self._params.iterations,
            "lanes": self._params.lanes,
        }
        txn.put(ROOT_SALT_PATH, json.dumps(record, sort_keys=True).encode())
        return self._derive(salt, self._params)

    def load(self, reader: Txn) -> bytes:
        raw = reader.get(ROOT_SALT_PATH)
        if raw is None:
            raise BarrierError(
                "this store was not initialised with a passphrase (no core/root-salt): "
                "open it with the key file it was created with"
            )
        try:
            record = json.loads(raw)
            if record["kdf"] != "argon2id" or record["length"] != KEY_BYTES:
                raise BarrierError("core/root-salt names an unsupported KDF")
            salt = base64.b64decode(record["salt"], validate=True)
            params = KdfParams(
                int(record["memory_cost_kib"]), int(record["iterations"]), int(record["lanes"])
            )
        except BarrierError:
            raise
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise BarrierError("core/root-salt is malformed") from exc
        params.check()
        return self._derive(salt, params)

    def _derive(self, salt: bytes, params: KdfParams) -> bytes:
        kdf = Argon2id(
            salt=salt,
            length=KEY_BYTES,
            iterations=params.iterations,
            lanes=params.lanes,
            memory_cost=params.memory_cost_kib,
        )
        return kdf.derive(self._secret)


def open_barrier(
    raw: Store, provider: RootKeyProvider, *, refresh_interval: float = 5.0
) -> Barrier:
    """Unseal the barrier of ``raw``, initialising an empty store first.

    Initialisation happens inside a transaction that re-checks for a keyring,
    so when two processes start on a new store at once, one creates the
    keyring and the other opens it.
    """
    blob = raw.get(KEYRING_PATH)
    if blob is None:
        with raw.transaction() as txn:
            blob = txn.get(KEYRING_PATH)
            if blob is None:
                root = provider.create(txn)
                ring = Keyring.new(time.time())
                blob = seal_keyring(root, ring)
                txn.put(KEYRING_PATH, blob)
                log.info("initialised a new barrier keyring")
                return Barrier(raw, root, ring, blob, refresh_interval=refresh_interval)
    root = provider.load(raw)
    ring = open_keyring(root, blob)
    return Barrier(raw, root, ring, blob, refresh_interval=refresh_interval)
