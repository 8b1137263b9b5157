"""ECDSA message signatures (spec: algorithm-suites.md "Signature Algorithm",
data-format/message-footer.md, default-cmm.md for the public key's encoding).

The message is hashed incrementally so streaming never keeps it in memory; the
digest is then signed or verified as ``Prehashed``. The public key travels in
the encryption context as the base64 of its compressed point.
"""

from __future__ import annotations

import base64
import binascii
import queue
import threading

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from strongroom.sdk.errors import MalformedMessageError, SignatureError
from strongroom.sdk.suites import AlgorithmSuite

PUBLIC_KEY_CONTEXT_KEY = "aws-crypto-public-key"  # default-cmm.md reserved context key


def generate_signing_key(suite: AlgorithmSuite) -> ec.EllipticCurvePrivateKey:
    curve = suite.props.curve
    assert curve is not None
    return ec.generate_private_key(curve())


def encode_public_key(key: ec.EllipticCurvePublicKey) -> str:
    point = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    return base64.b64encode(point).decode("ascii")


def decode_public_key(suite: AlgorithmSuite, text: str) -> ec.EllipticCurvePublicKey:
    curve = suite.props.curve
    assert curve is not None
    try:
        point = base64.b64decode(text.encode("ascii"), validate=True)
        return ec.EllipticCurvePublicKey.from_encoded_point(curve(), point)
    except (ValueError, binascii.Error, UnicodeEncodeError):
        raise MalformedMessageError("the message's signature public key is invalid") from None


class MessageHasher:
    """Running hash of header || body for the suite's signature algorithm."""

    __slots__ = ("_hash", "_hash_alg")

    def __init__(self, suite: AlgorithmSuite) -> None:
        alg = suite.props.signature_hash
        assert alg is not None
        self._hash_alg: hashes.HashAlgorithm = alg()
        self._hash = hashes.Hash(self._hash_alg)

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._hash.update(data)

    def sign(self, key: ec.EllipticCurvePrivateKey) -> bytes:
        digest = self._hash.finalize()
        return key.sign(digest, ec.ECDSA(utils.Prehashed(self._hash_alg)))

    def verify(self, key: ec.EllipticCurvePublicKey, signature: bytes) -> None:
        digest = self._hash.finalize()
        try:
            key.verify(signature, digest, ec.ECDSA(utils.Prehashed(self._hash_alg)))
        except InvalidSignature:
            raise SignatureError("message signature verification failed") from None


class BackgroundHasher:
    """Feeds a ``MessageHasher`` from a worker thread, in order.

    For the signed suites SHA-384 over the message costs about as much as AES-GCM itself;
    OpenSSL's hash and AEAD calls release the GIL, so hashing chunk *k* on a second core
    while frame *k+1* is sealed hides most of it. The caller must not modify a buffer it
    passed to ``update`` (one-shot encryption only ever writes ahead of what it queued)."""

    __slots__ = ("_error", "_hasher", "_queue", "_thread")

    def __init__(self, hasher: MessageHasher) -> None:
        self._hasher = hasher
        self._queue: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="esdk-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is None:
                return
            try:
                if self._error is None:
                    self._hasher.update(chunk)
            except BaseException as exc:  # reported by finish(), on the caller's thread
                self._error = exc
            finally:
                chunk.release()  # drop the export so the caller's buffer can be finalized
            del chunk

    def update(self, chunk: memoryview) -> None:
        self._queue.put(chunk)

    def finish(self) -> MessageHasher:
        """Wait until everything queued is hashed; returns the hasher (or re-raises)."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._hasher
