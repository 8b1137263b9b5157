"""AWS JSON 1.1 requests, responses and errors, checked against botocore."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.protocol.peer import WHEN, client_parse, client_request

from strongroom.errors import ServiceError
from strongroom.protocol import (
    load_service,
    parse_json_request,
    serialize_json_error,
    serialize_json_response,
)


def sent(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    """Params as botocore sends them, as our parser reads them back."""
    request = client_request(service, operation, params)
    return parse_json_request(load_service(service), operation, request["body"])


def rejected(service: str, operation: str, body: bytes | str) -> ServiceError:
    raw = body.encode() if isinstance(body, str) else body
    with pytest.raises(ServiceError) as caught:
        parse_json_request(load_service(service), operation, raw)
    return caught.value


# -- requests that botocore sends -------------------------------------------


def test_kms_encrypt_blob_map_list_enum_boolean() -> None:
    params = {
        "KeyId": "alias/app",
        "Plaintext": b"\x00secret\xff",
        "EncryptionContext": {"purpose": "test", "tenant": "ü"},
        "GrantTokens": ["g1", "g2"],
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "DryRun": False,
    }
    assert sent("kms", "Encrypt", params) == params


def test_nested_structures_in_lists_and_timestamps() -> None:
    params = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "Encrypt"}],
        "StartTime": WHEN,
        "EndTime": datetime(2024, 3, 1, tzinfo=UTC),
        "MaxResults": 50,
    }
    parsed = sent("cloudtrail", "LookupEvents", params)
    assert parsed == params
    assert parsed["StartTime"].tzinfo is not None


def test_events_put_events_list_of_structures_with_timestamp() -> None:
    params = {
        "Entries": [
            {"Source": "app", "DetailType": "t", "Detail": '{"a":1}', "Time": WHEN},
            {"Source": "app2", "Resources": ["arn:aws:s3:::b"]},
        ]
    }
    assert sent("events", "PutEvents", params) == params


def test_empty_list_and_empty_map_survive() -> None:
    params = {"KeyId": "k", "Plaintext": b"x", "GrantTokens": [], "EncryptionContext": {}}
    assert sent("kms", "Encrypt", params) == params


def test_operation_without_required_input_accepts_empty_bodies() -> None:
    for body in (b"", b"{}", b"  \n"):
        assert parse_json_request(load_service("kms"), "ListKeys", body) == {}


def test_timestamps_as_iso_strings_and_fractional_epochs() -> None:
    spec = load_service("cloudtrail")
    parsed = parse_json_request(
        spec,
        "LookupEvents",
        b'{"StartTime": "2024-02-29T12:30:15Z", "EndTime": 1709209815.5}',
    )
    assert parsed["StartTime"] == WHEN
    assert parsed["EndTime"] == datetime(2024, 2, 29, 12, 30, 15, 500000, tzinfo=UTC)


def test_unknown_members_and_nulls_are_ignored() -> None:
    parsed = parse_json_request(
        load_service("kms"),
        "Encrypt",
        b'{"KeyId":"k","Plaintext":"eA==","Bogus":{"x":[1]},"DryRun":null}',
    )
    assert parsed == {"KeyId": "k", "Plaintext": b"x"}


def test_whole_float_for_integer_member_is_accepted() -> None:
    parsed = parse_json_request(load_service("kms"), "GenerateRandom", b'{"NumberOfBytes": 32.0}')
    assert parsed == {"NumberOfBytes": 32}
    assert type(parsed["NumberOfBytes"]) is int


# -- malformed requests -----------------------------------------------------


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe\x00", b'{"KeyId": "a",}'])
def test_invalid_json_is_a_serialization_exception(body: bytes) -> None:
    err = rejected("kms", "Encrypt", body)
    assert err.code == "SerializationException"
    assert err.status == 400


@pytest.mark.parametrize("body", [b"[]", b"1", b'"x"', b"null", b"true"])
def test_non_object_body_is_a_serialization_exception(body: bytes) -> None:
    assert rejected("kms", "ListKeys", body).code == "SerializationException"


@pytest.mark.parametrize(
    ("operation", "body", "message"),
    [
        (
            "Encrypt",
            '{"KeyId": 5, "Plaintext": "eA=="}',
            "class com.amazon.coral.value.json.numbers.TruncatingBigNumber "
            "can not be converted to an String",
        ),
        ("Encrypt", '{"KeyId": true, "Plaintext": "eA=="}', "can not be converted to an String"),
        ("Encrypt", '{"KeyId": {}, "Plaintext": "eA=="}', "Start of structure or map found"),
        ("Encrypt", '{"KeyId": ["a"], "Plaintext": "eA=="}', "Start of list found"),
        (
            "GenerateRandom",
            '{"NumberOfBytes": "32"}',
            "STRING_VALUE can not be converted to an Integer",
        ),
        (
            "GenerateRandom",
            '{"NumberOfBytes": true}',
            "TRUE_VALUE can not be converted to an Integer",
        ),
        ("GenerateRandom", '{"NumberOfBytes": 4294967296}', "can not be converted to an Integer"),
        ("Encrypt", '{"KeyId": "k", "Plaintext": "eA==", "DryRun": "yes"}', "to a Boolean"),
        (
            "Encrypt",
            '{"KeyId": "k", "Plaintext": 12}',
            "NUMBER_VALUE can not be converted to a Blob",
        ),
        ("Encrypt", '{"KeyId": "k", "Plaintext": "not base64!"}', "Base64"),
        ("Encrypt", '{"KeyId": "k", "Plaintext": "eA"}', "Base64"),
        ("Encrypt", '{"KeyId": "k", "Plaintext": "eA==", "GrantTokens": "g"}', "to a List"),
        (
            "Encrypt",
            '{"KeyId": "k", "Plaintext": "eA==", "EncryptionContext": []}',
            "Start of list",
        ),
        ("Encrypt", '{"KeyId": "k", "Plaintext": "eA==", "EncryptionContext": {"a": 1}}', "String"),
        ("CreateKey", '{"Tags": [{"TagKey": 1, "TagValue": "v"}]}', "String"),
        ("CreateKey", '{"Tags": ["x"]}', "STRING_VALUE can not be converted to a Structure"),
        # A lone surrogate is not valid UTF-8 text: the body does not parse.
        ("Encrypt", '{"KeyId": "\\ud800", "Plaintext": "eA=="}', "as JSON"),
    ],
)
def test_wrong_member_types_are_serialization_exceptions(
    operation: str, body: str, message: str
) -> None:
    err = rejected("kms", operation, body)
    assert err.code == "SerializationException"
    assert message in err.message


def test_bad_timestamps_are_serialization_exceptions() -> None:
    for value in ('"yesterday"', "true", "1e400", '"2024-13-45T00:00:00Z"', "[1]"):
        body = f'{{"StartTime": {value}}}'
        assert rejected("cloudtrail", "LookupEvents", body).code == "SerializationException"


def test_type_errors_come_before_validation() -> None:
    # KeyId is missing (a validation error) but Plaintext has the wrong type.
    assert rejected("kms", "Encrypt", '{"Plaintext": 7}').code == "SerializationException"


# -- responses --------------------------------------------------------------


def test_response_encodes_blobs_and_timestamps_and_filters_members() -> None:
    spec = load_service("kms")
    result = {
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/k",
        "CiphertextBlob": b"\x01\x02\x03",
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
        "NotInTheModel": "dropped",
        "KeyMaterialId": None,
    }
    body = serialize_json_response(spec, "Encrypt", result)
    raw = json.loads(body)
    assert raw == {
        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/k",
        "CiphertextBlob": base64.b64encode(b"\x01\x02\x03").decode(),
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }
    seen = client_parse(spec, "Encrypt", 200, {}, body)
    assert seen["CiphertextBlob"] == b"\x01\x02\x03"


def test_response_timestamps_are_epoch_numbers_the_client_reads_back() -> None:
    spec = load_service("kms")
    created = datetime(2024, 1, 2, 3, 4, 5, 250000, tzinfo=UTC)
    result = {"KeyMetadata": {"KeyId": "k", "CreationDate": created, "Enabled": True}}
    body = serialize_json_response(spec, "DescribeKey", result)
    assert json.loads(body)["KeyMetadata"]["CreationDate"] == 1704164645.25
    seen = client_parse(spec, "DescribeKey", 200, {}, body)
    assert seen == result


def test_naive_datetimes_are_taken_as_utc() -> None:
    spec = load_service("kms")
    naive = datetime(2024, 1, 2, 3, 4, 5)
    body = serialize_json_response(
        spec, "DescribeKey", {"KeyMetadata": {"KeyId": "k", "CreationDate": naive}}
    )
    assert json.loads(body)["KeyMetadata"]["CreationDate"] == 1704164645


def test_operation_without_output_answers_empty_object() -> None:
    spec = load_service("kms")
    assert serialize_json_response(spec, "DisableKey", {}) == b"{}"
    assert client_parse(spec, "DisableKey", 200, {}, b"{}") == {}


def test_non_ascii_strings_in_responses() -> None:
    spec = load_service("secretsmanager")
    result = {"Name": "naïve-秘密", "SecretString": "pässwörd\u2028"}
    body = serialize_json_response(spec, "GetSecretValue", result)
    assert client_parse(spec, "GetSecretValue", 200, {}, body) == result


# -- errors -----------------------------------------------------------------


def test_error_shape_headers_and_client_view() -> None:
    err = ServiceError("NotFoundException", "Key 'arn:…' does not exist", 400)
    status, headers, body = serialize_json_error(err)
    assert status == 400
    assert ("x-amzn-ErrorType", "NotFoundException") in headers
    assert ("content-type", "application/x-amz-json-1.1") in headers
    assert json.loads(body) == {
        "__type": "NotFoundException",
        "message": "Key 'arn:…' does not exist",
    }
    seen = client_parse(load_service("kms"), "DescribeKey", status, headers, body)
    assert seen["Error"]["Code"] == "NotFoundException"
    assert seen["Error"]["Message"] == "Key 'arn:…' does not exist"


def test_error_content_type_for_json_1_0() -> None:
    err = ServiceError("ThrottlingException", "Rate exceeded", 400, headers={"retry-after": "1"})
    _, headers, _ = serialize_json_error(err, json_version="1.0")
    assert ("content-type", "application/x-amz-json-1.0") in headers
    # err.headers are the caller's to add (the gateway adds them to every answer).
    assert all(name != "retry-after" for name, _ in headers)


def test_validation_error_reaches_the_client() -> None:
    err = rejected("kms", "Encrypt", b"{}")
    status, headers, body = serialize_json_error(err)
    seen = client_parse(load_service("kms"), "Encrypt", status, headers, body)
    assert seen["Error"]["Code"] == "ValidationException"
    assert seen["Error"]["Message"].startswith("2 validation errors detected: ")


def test_absurdly_deep_recursive_shapes_are_refused_not_crashed() -> None:
    # SSM's InventoryAggregator contains itself; nest it past Python's stack.
    for depth in (250, 350, 450, 700):
        inner = '{"Expression":"x","Aggregators":[' * depth + '{"Expression":"x"}' + "]}" * depth
        body = '{"Aggregators":[' + inner + "]}"
        try:
            parse_json_request(load_service("ssm"), "GetInventory", body.encode())
        except ServiceError as err:
            assert err.status == 400
