"""Values-only (SOPS-like) encryption of structured documents.

Every leaf is encrypted separately into an ESDK message and replaced by
``ENC[esdk,type:T,data:BASE64]``; keys stay readable. Each value message's encryption
context carries the leaf's path, its type and its position, so a value moved, swapped or
retyped fails on decrypt. A metadata entry (``_strongroom``) records the wrapped document
key (``data_key``, an ESDK message from the caller's keyring), the suites, the encryption
context, the wrapping keys, the number of values and an HMAC-SHA256 over the document's
canonical form (metadata + every node's path and kind + every value marker, in document
order), so reordering, removing or adding anything is detected even where the per-value
checks cannot see it (empty maps, lists). Nothing is returned until every check passed.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strongroom.sdk.api import DEFAULT_POLICY
from strongroom.sdk.api import decrypt as decrypt_message
from strongroom.sdk.api import encrypt as encrypt_message
from strongroom.sdk.documents.keys import (
    DOCUMENT_KEY_LEN,
    DocumentKeyring,
    check_values_suite,
    mac_key,
    values_suite_for,
)
from strongroom.sdk.documents.tree import (
    decode_scalar,
    encode_scalar,
    format_marker,
    map_leaves,
    parse_marker,
    scalar_type,
    walk,
)
from strongroom.sdk.engine import resolve_cmm
from strongroom.sdk.errors import DecryptionError, DocumentError, DocumentFormatError
from strongroom.sdk.header import EncryptedDataKey, Header, describe_edk
from strongroom.sdk.materials import Keyring, MaterialsManager
from strongroom.sdk.stream import decrypt_stream
from strongroom.sdk.suites import AlgorithmSuite, CommitmentPolicy

META_KEY = "_strongroom"
VERSION = 1
DOCUMENT_CONTEXT_KEY = "strongroom:document"  # binds the data-key message to its document
PATH_KEY, TYPE_KEY, INDEX_KEY = "strongroom:path", "strongroom:type", "strongroom:index"
_META_FIELDS = (
    "version",
    "document_id",
    "suite",
    "values_suite",
    "values",
    "encryption_context",
    "wrapping_keys",
    "data_key",
    "mac",
)
_U32 = struct.Struct(">I")


@dataclass(frozen=True)
class DecryptedDocument:
    tree: dict[str, Any]
    data_key_header: Header  # the verified header of the data-key message
    decrypted_data_key: EncryptedDataKey | None  # which wrapping key unwrapped it


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _field(data: str | bytes) -> bytes:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return _U32.pack(len(raw)) + raw


def _canonical(meta: Mapping[str, Any], tree: Mapping[str, Any]) -> bytes:
    """Length-prefixed, unambiguous bytes over the metadata (minus the MAC) and the tree."""
    out = bytearray(b"strongroom-values-mac-v1\x00")
    for name in _META_FIELDS[:-1]:
        value = meta[name]
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        out += _field(name) + _field(text)
    for path, kind, node in walk(tree):
        if kind == "leaf":
            out += b"V" + _field(path) + _field(node if isinstance(node, str) else repr(node))
        else:
            out += (b"M" if kind == "map" else b"L") + _field(path) + _U32.pack(len(node))
    return bytes(out)


def _wrapping_keys(header: Header) -> list[dict[str, str]]:
    return [describe_edk(e) for e in header.encrypted_data_keys]


def _visible_context(header: Header) -> dict[str, str]:
    return {k: v for k, v in header.encryption_context.items() if not k.startswith("aws-crypto-")}


def encrypt_document(
    tree: Mapping[str, Any],
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    encryption_context: Mapping[str, str] | None = None,
    algorithm_suite: AlgorithmSuite | int | None = None,
    commitment_policy: CommitmentPolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """Encrypt every leaf of ``tree`` (a mapping, as loaded from YAML/JSON/.env); returns the
    new tree with the ``_strongroom`` metadata entry appended."""
    if not isinstance(tree, Mapping):
        raise DocumentFormatError("the top level of the document must be a mapping")
    if META_KEY in tree:
        raise DocumentFormatError(f"the document already has a {META_KEY!r} entry")
    list(walk(tree))  # validate keys and types before any keyring call
    for path, kind, node in walk(tree):
        if kind == "leaf":
            scalar_type(path, node)
    document_id, document_key = os.urandom(16), os.urandom(DOCUMENT_KEY_LEN)
    context = dict(encryption_context or {})
    context[DOCUMENT_CONTEXT_KEY] = _b64(document_id)
    blob, header = encrypt_message(
        document_key,
        keyring=keyring,
        materials_manager=materials_manager,
        encryption_context=context,
        algorithm_suite=algorithm_suite,
        commitment_policy=commitment_policy,
    )
    values_suite = values_suite_for(header.suite)
    cmm = resolve_cmm(DocumentKeyring(document_id, document_key), None)
    counter = iter(range(2**63))

    def seal(path: str, value: Any) -> str:
        type_ = scalar_type(path, value)
        index = next(counter)
        message, _ = encrypt_message(
            encode_scalar(value, type_),
            materials_manager=cmm,
            encryption_context={PATH_KEY: path, TYPE_KEY: type_, INDEX_KEY: str(index)},
            algorithm_suite=values_suite,
            commitment_policy=commitment_policy,
        )
        return format_marker(type_, message)

    out: dict[str, Any] = map_leaves(dict(tree), seal)
    meta: dict[str, Any] = {
        "version": VERSION,
        "document_id": _b64(document_id),
        "suite": header.suite.name,
        "values_suite": values_suite.name,
        "values": next(counter),
        "encryption_context": _visible_context(header),
        "wrapping_keys": _wrapping_keys(header),
        "data_key": _b64(blob),
    }
    meta["mac"] = hmac.new(
        mac_key(document_key, document_id), _canonical(meta, out), "sha256"
    ).hexdigest()
    out[META_KEY] = meta
    return out


def _metadata(tree: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(tree, Mapping) or META_KEY not in tree:
        raise DocumentFormatError(f"not a values-only document (no {META_KEY!r} metadata)")
    meta = tree[META_KEY]
    if not isinstance(meta, dict) or set(meta) != set(_META_FIELDS):
        raise DocumentError("metadata: fields are missing or unknown (the metadata was edited)")
    types = {"version": int, "values": int, "encryption_context": dict, "wrapping_keys": list}
    for name in _META_FIELDS:
        if not isinstance(meta[name], types.get(name, str)) or isinstance(meta[name], bool):
            raise DocumentError(f"metadata: {name!r} has the wrong type (the metadata was edited)")
    if meta["version"] != VERSION:
        raise DocumentError(f"metadata: unsupported version {meta['version']}")
    return meta


def _b64decode(meta: Mapping[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(meta[name], validate=True)
    except binascii.Error:
        raise DocumentError(f"metadata: {name!r} is not valid base64") from None


def _open_data_key(
    meta: Mapping[str, Any],
    document_id: bytes,
    cmm: MaterialsManager,
    policy: CommitmentPolicy,
    context: Mapping[str, str] | None,
    max_edks: int | None,
) -> tuple[bytes, Header, EncryptedDataKey | None]:
    reader = decrypt_stream(
        _b64decode(meta, "data_key"),
        materials_manager=cmm,
        commitment_policy=policy,
        encryption_context=context,
        max_encrypted_data_keys=max_edks,
    )
    try:
        document_key = reader.read()
        header, used = reader.header, reader.decrypted_data_key
    except DecryptionError as exc:
        raise type(exc)(f"metadata: the data key could not be decrypted: {exc}") from None
    if header.encryption_context.get(DOCUMENT_CONTEXT_KEY) != meta["document_id"]:
        raise DocumentError("metadata: the data key belongs to another document")
    if len(document_key) != DOCUMENT_KEY_LEN:
        raise DocumentError("metadata: the data key has the wrong length")
    if meta["suite"] != header.suite.name:
        raise DocumentError("metadata: 'suite' does not match the data key (metadata was edited)")
    if meta["wrapping_keys"] != _wrapping_keys(header):
        raise DocumentError(
            "metadata: 'wrapping_keys' does not match the data key (the metadata was edited)"
        )
    if meta["encryption_context"] != _visible_context(header):
        raise DocumentError(
            "metadata: 'encryption_context' does not match the data key (metadata was edited)"
        )
    return document_key, header, used


def _check_positions(seen: list[tuple[str, str]], count: int) -> None:
    """Every value records the position it was encrypted at; name what changed."""
    positions = [int(i) if i.isdigit() else -1 for _, i in seen]
    if positions == list(range(count)):
        return
    by_position = {p: path for (path, _), p in zip(seen, positions, strict=True)}
    for (path, _), p in zip(seen, positions, strict=True):
        if p < 0 or p >= count or positions.count(p) > 1:
            raise DocumentError(f"{path or '/'}: a copy of an encrypted value was added")
    missing = sorted(set(range(count)) - set(positions))
    if missing:
        after = by_position.get(missing[0] - 1)
        where = f" (the value after {after})" if after else ""
        raise DocumentError(
            f"{len(missing)} of {count} encrypted values were removed: value #{missing[0]}{where}"
        )
    for index, ((path, _), p) in enumerate(zip(seen, positions, strict=True)):
        if p != index:
            raise DocumentError(
                f"{path or '/'}: was encrypted as value #{p} but is value #{index}: "
                "values were reordered"
            )


def decrypt_document(
    tree: Mapping[str, Any],
    *,
    keyring: Keyring | None = None,
    materials_manager: MaterialsManager | None = None,
    encryption_context: Mapping[str, str] | None = None,
    commitment_policy: CommitmentPolicy = DEFAULT_POLICY,
    max_encrypted_data_keys: int | None = None,
) -> DecryptedDocument:
    """Verify and decrypt a values-only document. Raises ``DocumentError`` naming the
    first failed check (and the path involved); returns nothing unless all passed."""
    meta = _metadata(tree)
    document_id = _b64decode(meta, "document_id")
    try:
        values_suite = AlgorithmSuite[meta["values_suite"]]
    except KeyError:
        raise DocumentError("metadata: unknown 'values_suite'") from None
    check_values_suite(values_suite)
    cmm = resolve_cmm(keyring, materials_manager)
    document_key, header, used = _open_data_key(
        meta, document_id, cmm, commitment_policy, encryption_context, max_encrypted_data_keys
    )
    body = {k: v for k, v in tree.items() if k != META_KEY}
    value_cmm = resolve_cmm(DocumentKeyring(document_id, document_key), None)
    seen: list[tuple[str, str]] = []  # (path, the position it was encrypted at)

    def open_value(path: str, value: Any) -> Any:
        where = path or "/"
        marker = parse_marker(path, value)
        if marker is None:
            raise DocumentError(f"{where}: value is not encrypted (was it added after encryption?)")
        type_, message = marker
        try:
            plaintext, head = decrypt_message(
                message,
                materials_manager=value_cmm,
                commitment_policy=commitment_policy,
                max_encrypted_data_keys=1,
            )
        except DecryptionError as exc:
            raise DocumentError(
                f"{where}: encrypted value does not verify ({type(exc).__name__}): it was "
                "modified or comes from another document"
            ) from None
        ctx = head.encryption_context
        if head.suite is not values_suite:
            raise DocumentError(f"{where}: value uses a different algorithm suite")
        if ctx.get(PATH_KEY) != path:
            raise DocumentError(
                f"{where}: holds the value encrypted for {ctx.get(PATH_KEY) or '/'}: "
                "values were moved or swapped"
            )
        if ctx.get(TYPE_KEY) != type_:
            raise DocumentError(f"{where}: the type in the ENC[...] marker was edited")
        seen.append((path, ctx.get(INDEX_KEY, "")))
        return decode_scalar(path, type_, plaintext)

    plain: dict[str, Any] = map_leaves(body, open_value)
    _check_positions(seen, meta["values"])
    expected = hmac.new(mac_key(document_key, document_id), _canonical(meta, body), "sha256")
    if not hmac.compare_digest(expected.hexdigest(), meta["mac"]):
        raise DocumentError(
            "document MAC does not verify: keys, lists or metadata were added, removed, "
            "reordered or edited"
        )
    return DecryptedDocument(plain, header, used)
