"""Routing one endpoint's requests to (service, operation), with AWS's errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.model import ServiceModel
from botocore.serialize import create_serializer
from tests.protocol.peer import client_parse, client_request

from strongroom.errors import ServiceError
from strongroom.protocol import (
    ServiceSpec,
    load_service,
    parse_json_request,
    route,
    route_and_parse,
    serialize_json_error,
)

FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}


def routed(
    service: str, operation: str, params: dict[str, Any], signing: str | None
) -> tuple[str, str]:
    request = client_request(service, operation, params)
    spec, name = route(request["method"], "/", request["headers"], request["body"], "", signing)
    return spec.name, name


def refused(
    headers: dict[str, str],
    body: bytes = b"",
    query: str = "",
    signing: str | None = None,
    method: str = "POST",
) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        route(method, "/", headers, body, query, signing)
    return caught.value


@pytest.mark.parametrize(
    ("service", "operation", "params"),
    [
        ("kms", "Encrypt", {"KeyId": "k", "Plaintext": b"x"}),
        ("ssm", "GetParameter", {"Name": "/app/db"}),
        ("secretsmanager", "GetSecretValue", {"SecretId": "s"}),
        ("cloudtrail", "LookupEvents", {}),
        ("events", "ListRules", {}),
        ("iam", "ListUsers", {}),
        ("sts", "GetCallerIdentity", {}),
    ],
)
def test_botocore_requests_route_with_and_without_a_signing_scope(
    service: str, operation: str, params: dict[str, Any]
) -> None:
    signing = load_service(service).signing_name
    assert routed(service, operation, params, signing) == (service, operation)
    assert routed(service, operation, params, None) == (service, operation)


def test_cloudtrail_target_prefix_contains_dots() -> None:
    request = client_request("cloudtrail", "LookupEvents", {})
    target = request["headers"]["x-amz-target"]
    assert target == "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"


@pytest.mark.parametrize(
    "target",
    ["TrentService.Nope", "NoSuchService.Encrypt", "Encrypt", "", ".Encrypt", "TrentService."],
)
def test_unknown_targets_are_unknown_operation(target: str) -> None:
    err = refused({"x-amz-target": target, "content-type": "application/x-amz-json-1.1"}, b"{}")
    assert (err.code, err.status) == ("UnknownOperationException", 400)
    status, headers, body = serialize_json_error(err)
    assert json.loads(body) == {"__type": "UnknownOperationException"}
    seen = client_parse(load_service("kms"), "Encrypt", status, headers, body)
    assert seen["Error"]["Code"] == "UnknownOperationException"


def test_json_signed_request_without_target_is_unknown_operation() -> None:
    err = refused({"content-type": "application/x-amz-json-1.1"}, b"{}", signing="kms")
    assert err.code == "UnknownOperationException"


def test_signing_scope_picks_between_iam_and_sts() -> None:
    body = b"Action=GetCallerIdentity&Version=2011-06-15"
    err = refused(FORM, body, signing="iam")
    assert err.code == "InvalidAction"
    assert err.message == "Could not find operation GetCallerIdentity for version 2011-06-15"
    spec, operation = route("POST", "/", FORM, body, "", "sts")
    assert (spec.name, operation) == ("sts", "GetCallerIdentity")


def test_unknown_action_and_wrong_or_missing_version() -> None:
    err = refused(FORM, b"Action=DeleteEverything&Version=2010-05-08")
    assert (err.code, err.status) == ("InvalidAction", 400)
    assert err.message == "Could not find operation DeleteEverything for version 2010-05-08"
    wrong = refused(FORM, b"Action=ListUsers&Version=2011-06-15", signing="iam")
    assert wrong.message == "Could not find operation ListUsers for version 2011-06-15"
    missing = refused(FORM, b"Action=ListUsers")
    assert missing.message == "Could not find operation ListUsers for version NO_VERSION_SPECIFIED"


@pytest.mark.parametrize(
    ("headers", "body", "query", "method"),
    [
        (FORM, b"", "", "POST"),
        (FORM, b"Version=2010-05-08&UserName=a", "", "POST"),
        (FORM, b"Action=", "", "POST"),
        ({}, b"", "", "GET"),
        ({"content-type": "application/json"}, b"Action=ListUsers&Version=2010-05-08", "", "POST"),
    ],
)
def test_missing_action(headers: dict[str, str], body: bytes, query: str, method: str) -> None:
    err = refused(headers, body, query, method=method)
    assert (err.code, err.status) == ("MissingAction", 400)


def test_get_with_query_string() -> None:
    spec, operation, params = route_and_parse(
        "GET", "/", {}, b"", "Action=GetUser&Version=2010-05-08&UserName=al%2Bice", None
    )
    assert (spec.name, operation, params) == ("iam", "GetUser", {"UserName": "al+ice"})


def test_post_parameters_from_url_and_body_together() -> None:
    _, operation, params = route_and_parse(
        "POST",
        "/",
        FORM,
        b"UserName=bob&Tags.member.1.Key=team&Tags.member.1.Value=blue+team",
        "Action=CreateUser&Version=2010-05-08",
        "iam",
    )
    assert (operation, params) == (
        "CreateUser",
        {"UserName": "bob", "Tags": [{"Key": "team", "Value": "blue team"}]},
    )


@pytest.mark.parametrize(
    "body", [b"Action=ListUsers&Version=2010-05-08&Marker=%ff", "Action=é".encode()]
)
def test_undecodable_form_is_malformed_query_string(body: bytes) -> None:
    err = refused(FORM, body)
    assert err.code == "MalformedQueryString"


def test_route_and_parse_json() -> None:
    request = client_request("kms", "Encrypt", {"KeyId": "k", "Plaintext": b"hi"})
    spec, operation, params = route_and_parse(
        "POST", "/", request["headers"], request["body"], "", "kms"
    )
    assert (spec.name, operation, params) == ("kms", "Encrypt", {"KeyId": "k", "Plaintext": b"hi"})


def test_json_1_0_services_parse_and_answer_generically() -> None:
    model = ServiceModel(
        {
            "version": "2.0",
            "metadata": {
                "apiVersion": "2020-01-01",
                "protocol": "json",
                "jsonVersion": "1.0",
                "targetPrefix": "Ten_20200101",
                "serviceId": "Ten",
                "signatureVersion": "v4",
                "endpointPrefix": "ten",
                "uid": "ten-2020-01-01",
            },
            "operations": {
                "Go": {
                    "name": "Go",
                    "http": {"method": "POST", "requestUri": "/"},
                    "input": {"shape": "GoInput"},
                }
            },
            "shapes": {
                "GoInput": {
                    "type": "structure",
                    "required": ["Name"],
                    "members": {"Name": {"shape": "S"}, "Raw": {"shape": "B"}},
                },
                "S": {"type": "string"},
                "B": {"type": "blob"},
            },
        },
        "tenjson",
    )
    spec = ServiceSpec(
        name="tenjson",
        protocol="json",
        target_prefix="Ten_20200101",
        signing_name="ten",
        model=model,
        json_version="1.0",
        operations=frozenset(model.operation_names),
    )
    request = create_serializer("json").serialize_to_request(
        {"Name": "n", "Raw": b"\x01"}, model.operation_model("Go")
    )
    assert request["headers"]["Content-Type"] == spec.json_content_type
    assert request["headers"]["X-Amz-Target"] == "Ten_20200101.Go"
    assert parse_json_request(spec, "Go", request["body"]) == {"Name": "n", "Raw": b"\x01"}
    with pytest.raises(ServiceError) as caught:
        parse_json_request(spec, "Go", b"{}")
    _, headers, _ = serialize_json_error(caught.value, json_version=spec.json_version)
    assert ("content-type", "application/x-amz-json-1.0") in headers


def test_warm_up_builds_every_operation_of_every_service() -> None:
    from strongroom.protocol import (
        SERVED_SERVICES,
        json_output,
        json_protocol,
        query_protocol,
        query_xml,
        validate,
        warm_up,
    )

    warm_up()
    for name in SERVED_SERVICES:
        spec = load_service(name)
        for operation in spec.operations:
            key = (name, operation)
            assert key in validate._op_validators
            if spec.protocol == "json":
                assert key in json_protocol._inputs and key in json_output._outputs
            else:
                assert key in query_protocol._inputs and key in query_xml._writers
