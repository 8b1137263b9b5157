"""strongroom.sdk.documents: values-only encryption at the library level."""

from __future__ import annotations

import copy
import datetime
import os
from typing import Any

import pytest

from strongroom import sdk
from strongroom.sdk import documents
from strongroom.sdk.documents import META_KEY
from strongroom.sdk.documents.tree import walk

KEYRING = sdk.RawAesKeyring("ns", "k", os.urandom(32))
TREE: dict[str, Any] = {
    "a/b": {"~x": "slash and tilde"},
    "list": [1, [2.5, "three"], {"deep": False}],
    "nan": float("inf"),
    "big": 2**80,
    "s": "",
}


def _enc(tree: dict[str, Any] = TREE, **kw: Any) -> dict[str, Any]:
    return documents.encrypt_document(tree, keyring=KEYRING, **kw)


def _dec(tree: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return documents.decrypt_document(tree, keyring=KEYRING, **kw).tree


def test_round_trip_types_and_escaped_paths() -> None:
    enc = _enc()
    assert [p for p, kind, _ in walk(enc) if kind == "leaf"][:2] == ["/a~1b/~0x", "/list/0"]
    assert _dec(enc) == TREE
    assert enc[META_KEY]["values_suite"] == "AES_256_GCM_HKDF_SHA512_COMMIT_KEY"
    assert enc[META_KEY]["suite"] == "AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384"


def test_one_keyring_call_per_document() -> None:
    calls = []

    class Counting:
        def on_encrypt(self, m: Any) -> Any:
            calls.append(1)
            return KEYRING.on_encrypt(m)

        def on_decrypt(self, m: Any, edks: Any) -> Any:
            calls.append(1)
            return KEYRING.on_decrypt(m, edks)

    enc = documents.encrypt_document({f"k{i}": i for i in range(50)}, keyring=Counting())
    documents.decrypt_document(enc, keyring=Counting())
    assert len(calls) == 2


def _set(tree: dict[str, Any], path: list[Any], value: Any) -> None:
    node = tree
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: _set(t, ["list", 0], t["list"][0].replace("type:int", "type:str")),
            "/list/0: the type in the ENC[...] marker was edited",
        ),
        (lambda t: _set(t, ["list", 0], "ENC[esdk,type:int,data:***]"), "/list/0: malformed"),
        (lambda t: _set(t, ["list", 1], [t["list"][1][0]]), "were removed: value #3"),
        (
            lambda t: t["list"].append(t["list"][0]),
            "/list/3: holds the value encrypted for /list/0",
        ),
        (lambda t: t[META_KEY].update(values=9), "9 encrypted values were removed"),
        (
            lambda t: t[META_KEY].update(suite="AES_256_GCM_HKDF_SHA512_COMMIT_KEY"),
            "metadata: 'suite' does not match",
        ),
        (
            lambda t: t[META_KEY].update(encryption_context={"x": "y"}),
            "metadata: 'encryption_context' does not match",
        ),
        (lambda t: t[META_KEY].pop("mac"), "metadata: fields are missing"),
        (lambda t: t[META_KEY].update(version="1"), "metadata: 'version' has the wrong type"),
        (lambda t: t.update(s=1), "/s: value is not encrypted"),
    ],
)
def test_tampering(edit: Any, message: str) -> None:
    enc = _enc()
    edit(enc)
    with pytest.raises(sdk.DocumentError, match=None) as info:
        _dec(enc)
    assert message in str(info.value)


def test_values_and_data_key_from_another_document_fail() -> None:
    one, two = _enc({"x": "1"}), _enc({"x": "1"})
    mixed = copy.deepcopy(one)
    mixed["x"] = two["x"]
    with pytest.raises(sdk.DocumentError, match="/x: encrypted value does not verify"):
        _dec(mixed)
    mixed = copy.deepcopy(one)
    mixed[META_KEY]["data_key"] = two[META_KEY]["data_key"]
    with pytest.raises(sdk.DocumentError, match="data key belongs to another document"):
        _dec(mixed)


def test_refusals_name_paths_not_values() -> None:
    with pytest.raises(sdk.DocumentFormatError, match="/when: unsupported value type date"):
        _enc({"when": datetime.date(2024, 1, 1)})
    with pytest.raises(sdk.PolicyError, match="key derivation"):
        _enc(
            {"x": "1"},
            algorithm_suite=sdk.AlgorithmSuite.AES_256_GCM_IV12_TAG16,
            commitment_policy=sdk.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT,
        )
    with pytest.raises(sdk.DocumentFormatError, match="line 2: duplicate key A") as info:
        documents.load("A=secret1\nA=secret2\n", "env")
    assert "secret" not in str(info.value)
    with pytest.raises(sdk.DocumentFormatError, match="line 1: expected KEY=VALUE"):
        documents.load("not a pair secret\n", "env")
    with pytest.raises(sdk.DocumentFormatError, match="top level"):
        documents.load("[1, 2]", "json")


def test_forbid_policy_uses_unsigned_non_committing_values() -> None:
    policy = sdk.CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
    enc = _enc({"x": True}, commitment_policy=policy)
    assert enc[META_KEY]["values_suite"] == "AES_256_GCM_IV12_TAG16_HKDF_SHA256"
    assert _dec(enc, commitment_policy=sdk.CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT) == {
        "x": True
    }
    with pytest.raises(sdk.PolicyError):
        _dec(enc)  # require-decrypt refuses the non-committing data key message


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.yml", "yaml"),
        ("x/b.enc.yaml", "yaml"),
        ("c.json", "json"),
        (".env", "env"),
        (".env.production", "env"),
        ("prod.env", "env"),
    ],
)
def test_detect_format(name: str, fmt: str) -> None:
    assert documents.detect_format(name) == fmt
