"""Wire-format unit tests: context serialization, header round trip, suite table, isolation."""

from __future__ import annotations

import subprocess
import sys

import pytest

from strongroom import sdk
from strongroom.sdk import AlgorithmSuite
from strongroom.sdk.header import ContentType, EncryptedDataKey, parse_header, serialize_header_body
from strongroom.sdk.wire import Incomplete, parse_encryption_context, serialize_encryption_context


def test_context_serialization_is_sorted_by_utf8_bytes() -> None:
    data = serialize_encryption_context({"b": "2", "a": "1", "é": "3"})
    assert (
        data
        == b"\x00\x03"
        + b"\x00\x01a\x00\x011"
        + b"\x00\x01b\x00\x012"
        + b"\x00\x02\xc3\xa9\x00\x013"
    )
    assert parse_encryption_context(data) == {"a": "1", "b": "2", "é": "3"}
    assert serialize_encryption_context({}) == b""


def test_context_duplicates_and_trailing_bytes_refused() -> None:
    entry = b"\x00\x01a\x00\x011"
    with pytest.raises(sdk.MalformedMessageError):
        parse_encryption_context(b"\x00\x02" + entry + entry)
    with pytest.raises(sdk.MalformedMessageError):
        parse_encryption_context(b"\x00\x01" + entry + b"\x00")


@pytest.mark.parametrize("suite", list(AlgorithmSuite))
def test_header_round_trip(suite: AlgorithmSuite) -> None:
    edk = EncryptedDataKey("prov", b"info", b"ciphertext")
    body = serialize_header_body(
        suite,
        bytes(suite.props.message_id_len),
        {"k": "v"},
        (edk,),
        ContentType.FRAMED,
        4096,
        bytes(suite.props.suite_data_len),
    )
    auth = (bytes(12) if suite.props.message_version == 1 else b"") + bytes(16)
    header, used = parse_header(body + auth + b"rest")
    assert used == len(body + auth)
    assert header.suite is suite and header.encrypted_data_keys == (edk,)
    assert header.encryption_context == {"k": "v"} and header.body_bytes == body
    assert body[0] == suite.props.message_version
    with pytest.raises(Incomplete):
        parse_header((body + auth)[:-1])


def test_header_field_checks() -> None:
    with pytest.raises(sdk.MalformedMessageError, match="base64"):
        parse_header(b"AYAAFA" + bytes(100))
    with pytest.raises(sdk.MalformedMessageError, match="suite"):
        parse_header(b"\x02\x00\x15" + bytes(100))
    with pytest.raises(sdk.MalformedMessageError, match="version"):
        parse_header(b"\x02\x00\x14" + bytes(100))  # a v1 suite in a v2 message


def test_suite_table_and_names() -> None:
    assert len(AlgorithmSuite) == 11
    assert AlgorithmSuite.parse("AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384").value == 0x0578
    assert AlgorithmSuite.parse("ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY").value == 0x0478
    assert AlgorithmSuite.parse("0x0214").signed
    assert [s.value for s in AlgorithmSuite if s.committing] == [0x0478, 0x0578]
    assert {s.props.message_version for s in AlgorithmSuite if not s.committing} == {1}
    with pytest.raises(ValueError):
        AlgorithmSuite.parse("AES_512")


def test_sdk_never_imports_the_server() -> None:
    code = (
        "import sys, strongroom.sdk, strongroom.cli.crypto;"
        "bad=[m for m in sys.modules if m.split('.')[:2] in (['strongroom','gateway'],"
        "['strongroom','services'],['strongroom','storage'])];print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
