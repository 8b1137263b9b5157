"""AWS Query (IAM, STS): form parsing, XML responses and errors, against botocore."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import pytest
from botocore.model import ServiceModel
from tests.protocol.peer import WHEN, client_request

from strongroom.errors import ServiceError
from strongroom.protocol import (
    ServiceSpec,
    load_service,
    parse_query_request,
    serialize_query_error,
    serialize_query_response,
)


def form_of(service: str, operation: str, params: dict[str, Any]) -> dict[str, list[str]]:
    body = client_request(service, operation, params)["body"]
    return parse_qs(body.decode("ascii"), keep_blank_values=True)


def sent(service: str, operation: str, params: dict[str, Any]) -> dict[str, Any]:
    return parse_query_request(
        load_service(service), operation, form_of(service, operation, params)
    )


def parse_xml(spec: ServiceSpec, operation: str, body: bytes, status: int = 200) -> dict[str, Any]:
    from botocore.parsers import create_parser

    parsed: dict[str, Any] = create_parser("query").parse(
        {"status_code": status, "headers": {}, "body": body},
        spec.model.operation_model(operation).output_shape,
    )
    return parsed


def rejected(service: str, operation: str, form: dict[str, str]) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        parse_query_request(load_service(service), operation, form)
    return caught.value


# -- requests ---------------------------------------------------------------


def test_iam_create_user_with_tag_structures() -> None:
    params = {
        "UserName": "alice",
        "Path": "/eng/",
        "Tags": [{"Key": "team", "Value": "core"}, {"Key": "cost", "Value": "ü & 7"}],
    }
    assert sent("iam", "CreateUser", params) == params


def test_sts_assume_role_lists_integers_and_empty_list() -> None:
    params = {
        "RoleArn": "arn:aws:iam::111122223333:role/app",
        "RoleSessionName": "s1",
        "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
        "DurationSeconds": 3600,
        "TransitiveTagKeys": [],
        "Policy": '{"Version":"2012-10-17","Statement":[]}',
    }
    form = form_of("sts", "AssumeRole", params)
    assert form["TransitiveTagKeys"] == [""]  # botocore's wire form of an empty list
    assert parse_query_request(load_service("sts"), "AssumeRole", form) == params


def test_booleans_in_any_case_and_single_string_values() -> None:
    spec = load_service("iam")
    assert parse_query_request(spec, "ListPolicies", {"OnlyAttached": "true"}) == {
        "OnlyAttached": True
    }
    assert parse_query_request(spec, "ListPolicies", {"OnlyAttached": ["FALSE", "true"]}) == {
        "OnlyAttached": False
    }


def test_list_positions_are_ordered_numerically() -> None:
    form = {f"TransitiveTagKeys.member.{i}": f"k{i}" for i in (10, 2, 1)}
    form.update(RoleArn="arn:aws:iam::111122223333:role/app", RoleSessionName="s1")
    parsed = parse_query_request(load_service("sts"), "AssumeRole", form)
    assert parsed["TransitiveTagKeys"] == ["k1", "k2", "k10"]


def test_action_version_and_auth_parameters_are_not_params() -> None:
    form = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Signature": "abc",
        "X-Amz-Credential": "AKIA/20240101/us-east-1/sts/aws4_request",
    }
    assert parse_query_request(load_service("sts"), "GetCallerIdentity", form) == {}


@pytest.mark.parametrize(
    ("operation", "form", "where"),
    [
        ("ListUsers", {"MaxItems": "abc"}, "MaxItems"),
        ("ListUsers", {"MaxItems": "1.5"}, "MaxItems"),
        ("ListUsers", {"MaxItems": " 5"}, "MaxItems"),
        ("ListUsers", {"MaxItems": "99999999999"}, "MaxItems"),
        ("ListPolicies", {"OnlyAttached": "yes"}, "OnlyAttached"),
        ("CreateUser", {"UserName": "a", "Tags.member.x.Key": "k"}, "Tags.member.x"),
        ("CreateUser", {"UserName": "a", "Tags": "not-a-list"}, "Tags"),
        ("CreateUser", {"UserName": "a", "Tags.member": "flat"}, "Tags.member"),
        ("CreateUser", {"UserName": "a", "Tags.member.1": "scalar"}, "Tags.member.1"),
        ("CreateUser", {"UserName.Nested": "x"}, "UserName"),
    ],
)
def test_values_of_the_wrong_type_are_malformed_input(
    operation: str, form: dict[str, str], where: str
) -> None:
    err = rejected("iam", operation, form)
    assert err.code == "MalformedInput"
    assert err.status == 400
    assert where in err.message


def test_constraints_are_validation_errors_with_aws_wording() -> None:
    err = rejected("iam", "CreateUser", {"UserName": "bad name!"})
    assert err.code == "ValidationError"
    assert err.message == (
        "1 validation error detected: Value 'bad name!' at 'userName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
    )
    missing = rejected("iam", "CreateUser", {})
    assert missing.message == (
        "1 validation error detected: Value null at 'userName' failed to satisfy "
        "constraint: Member must not be null"
    )


def test_java_word_class_is_ascii_only() -> None:
    err = rejected("iam", "CreateUser", {"UserName": "bjørn"})
    assert "regular expression pattern" in err.message


# -- responses --------------------------------------------------------------


def test_create_user_response_document() -> None:
    spec = load_service("iam")
    user = {
        "Path": "/",
        "UserName": "alice",
        "UserId": "AIDA123",
        "Arn": "arn:aws:iam::111122223333:user/alice",
        "CreateDate": WHEN,
        "Tags": [{"Key": "a<b", "Value": "c&d"}],
    }
    body = serialize_query_response(spec, "CreateUser", {"User": user, "Extra": 1}, "rid-1")
    root = ET.fromstring(body)
    ns = "{https://iam.amazonaws.com/doc/2010-05-08/}"
    assert root.tag == f"{ns}CreateUserResponse"
    assert root.findtext(f"{ns}CreateUserResult/{ns}User/{ns}CreateDate") == "2024-02-29T12:30:15Z"
    assert root.findtext(f"{ns}ResponseMetadata/{ns}RequestId") == "rid-1"
    assert root.find(f"{ns}CreateUserResult/{ns}Extra") is None
    parsed = parse_xml(spec, "CreateUser", body)
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-1"
    assert parsed["User"] == user


def test_map_output_and_milliseconds() -> None:
    spec = load_service("iam")
    body = serialize_query_response(
        spec, "GetAccountSummary", {"SummaryMap": {"Users": 3, "Groups": 0}}, "r"
    )
    assert parse_xml(spec, "GetAccountSummary", body)["SummaryMap"] == {"Users": 3, "Groups": 0}
    sts = load_service("sts")
    expires = datetime(2024, 1, 1, 0, 0, 0, 359000, tzinfo=UTC)
    creds = {
        "AccessKeyId": "ASIA1",
        "SecretAccessKey": "s",
        "SessionToken": "t",
        "Expiration": expires,
    }
    body = serialize_query_response(sts, "GetSessionToken", {"Credentials": creds}, "r")
    assert b"<Expiration>2024-01-01T00:00:00.359Z</Expiration>" in body
    assert parse_xml(sts, "GetSessionToken", body)["Credentials"] == creds


def test_empty_list_output() -> None:
    spec = load_service("iam")
    body = serialize_query_response(spec, "ListUsers", {"Users": [], "IsTruncated": False}, "r")
    parsed = parse_xml(spec, "ListUsers", body)
    assert parsed["Users"] == []
    assert parsed["IsTruncated"] is False


def test_operation_without_output_has_no_result_element() -> None:
    spec = load_service("iam")
    body = serialize_query_response(spec, "DeleteUser", {}, "rid-9")
    assert body == (
        b'<DeleteUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
        b"<ResponseMetadata><RequestId>rid-9</RequestId></ResponseMetadata></DeleteUserResponse>"
    )
    assert parse_xml(spec, "DeleteUser", body)["ResponseMetadata"]["RequestId"] == "rid-9"


def test_text_that_xml_cannot_carry_is_escaped_or_replaced() -> None:
    spec = load_service("iam")
    text = "a<b>&c\r\nd\x00e"
    body = serialize_query_response(spec, "GetUser", {"User": {"UserName": text}}, "r")
    assert parse_xml(spec, "GetUser", body)["User"]["UserName"] == "a<b>&c\r\nd\ufffde"


# -- errors -----------------------------------------------------------------


@pytest.mark.parametrize("sender", [True, False])
def test_error_document_is_parsed_by_botocore(sender: bool) -> None:
    spec = load_service("iam")
    err = ServiceError(
        "NoSuchEntity", "The user with name <x> cannot be found.", 404, sender_fault=sender
    )
    status, headers, body = serialize_query_error(err, "rid-2", spec=spec)
    assert status == 404
    assert ("content-type", "text/xml") in headers
    assert body.startswith(b'<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">')
    parsed = parse_xml(spec, "GetUser", body, status)
    assert parsed["Error"] == {
        "Type": "Sender" if sender else "Receiver",
        "Code": "NoSuchEntity",
        "Message": "The user with name <x> cannot be found.",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "rid-2"


def test_error_without_spec_has_no_namespace() -> None:
    _, _, body = serialize_query_error(ServiceError("InvalidAction", "nope"), "r")
    assert body.startswith(b"<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code>")


# -- generic model features our services do not use (yet) ----------------------

_SYNTH_MODEL: dict[str, Any] = {
    "version": "2.0",
    "metadata": {
        "apiVersion": "2020-01-01",
        "protocol": "query",
        "serviceId": "Synth",
        "signatureVersion": "v4",
        "endpointPrefix": "synth",
        "xmlNamespace": "https://synth.example/doc/2020-01-01/",
        "uid": "synth-2020-01-01",
    },
    "operations": {
        "Echo": {
            "name": "Echo",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "Payload"},
            "output": {"shape": "Payload", "resultWrapper": "EchoResult"},
        }
    },
    "shapes": {
        "Payload": {
            "type": "structure",
            "members": {
                "Renamed": {"shape": "Str", "locationName": "Alias"},
                "Flat": {"shape": "FlatList"},
                "Wrapped": {"shape": "NamedList"},
                "Attrs": {"shape": "NamedMap"},
                "FlatAttrs": {"shape": "FlatMap"},
                "Inner": {"shape": "Inner"},
            },
        },
        "Inner": {
            "type": "structure",
            "members": {
                "Count": {"shape": "Int"},
                "Big": {"shape": "Long"},
                "Ratio": {"shape": "Double"},
                "On": {"shape": "Bool"},
                "At": {"shape": "Time"},
                "Data": {"shape": "Blob"},
            },
        },
        "FlatList": {
            "type": "list",
            "member": {"shape": "Str", "locationName": "Item"},
            "flattened": True,
        },
        "NamedList": {"type": "list", "member": {"shape": "Inner", "locationName": "item"}},
        "NamedMap": {
            "type": "map",
            "key": {"shape": "Str", "locationName": "Name"},
            "value": {"shape": "Int", "locationName": "Val"},
        },
        "FlatMap": {
            "type": "map",
            "key": {"shape": "Str"},
            "value": {"shape": "Str"},
            "flattened": True,
        },
        "Str": {"type": "string"},
        "Int": {"type": "integer"},
        "Long": {"type": "long"},
        "Double": {"type": "double"},
        "Bool": {"type": "boolean"},
        "Time": {"type": "timestamp"},
        "Blob": {"type": "blob"},
    },
}


def _synth() -> ServiceSpec:
    model = ServiceModel(_SYNTH_MODEL, "synthquery")
    return ServiceSpec(
        name="synthquery",
        protocol="query",
        target_prefix=None,
        signing_name="synth",
        model=model,
        api_version="2020-01-01",
        xml_namespace="https://synth.example/doc/2020-01-01/",
        operations=frozenset(model.operation_names),
    )


SYNTH_PARAMS: dict[str, Any] = {
    "Renamed": "r",
    "Flat": ["a", "b"],
    "Wrapped": [{"Count": 1, "Ratio": 0.25}, {"On": False, "Big": 2**40}],
    "Attrs": {"x": 1, "y": 2},
    "FlatAttrs": {"k": "v"},
    "Inner": {"Count": -3, "Big": 5, "Ratio": 1.5, "On": True, "At": WHEN, "Data": b"\x00\x01"},
}


def test_location_names_flattened_lists_and_maps_round_trip_requests() -> None:
    from botocore.serialize import create_serializer
    from botocore.utils import percent_encode_sequence

    spec = _synth()
    request = create_serializer("query").serialize_to_request(
        SYNTH_PARAMS, spec.model.operation_model("Echo")
    )
    encoded = percent_encode_sequence(request["body"])
    form = parse_qs(encoded, keep_blank_values=True)
    assert "Alias" in form and "Item.1" in form and "Attrs.entry.1.Name" in form
    assert parse_query_request(spec, "Echo", form) == SYNTH_PARAMS


def test_location_names_flattened_lists_and_maps_in_responses() -> None:
    spec = _synth()
    body = serialize_query_response(spec, "Echo", SYNTH_PARAMS, "r")
    assert b"<EchoResult>" in body and b"<Alias>r</Alias>" in body and b"<Item>a</Item>" in body
    parsed = parse_xml(spec, "Echo", body)
    parsed.pop("ResponseMetadata")
    assert parsed == SYNTH_PARAMS
