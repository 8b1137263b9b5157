"""Every kind of constraint, worded as AWS words it."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.model import ServiceModel

from strongroom.errors import ServiceError
from strongroom.protocol import ServiceSpec, load_service, validate_input
from strongroom.protocol.validate import compile_pattern


def failure(service: str, operation: str, params: dict[str, Any]) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        validate_input(load_service(service), operation, params)
    return caught.value


def only(message: str) -> str:
    return "1 validation error detected: " + message


def test_valid_input_passes() -> None:
    validate_input(load_service("kms"), "Encrypt", {"KeyId": "k", "Plaintext": b"x"})
    validate_input(load_service("iam"), "ListUsers", {"MaxItems": 1000})


def test_missing_required_members_are_all_listed() -> None:
    err = failure("kms", "Encrypt", {})
    assert err.code == "ValidationException"
    assert err.status == 400
    assert err.message == (
        "2 validation errors detected: "
        "Value null at 'keyId' failed to satisfy constraint: Member must not be null; "
        "Value null at 'plaintext' failed to satisfy constraint: Member must not be null"
    )


def test_query_services_answer_validation_error() -> None:
    err = failure("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::111122223333:role/r"})
    assert err.code == "ValidationError"
    assert err.message == only(
        "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"
    )


def test_string_length_bounds() -> None:
    short = failure("kms", "Encrypt", {"KeyId": "", "Plaintext": b"x"})
    assert short.message == only(
        "Value '' at 'keyId' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    long_id = "k" * 2049
    long = failure("kms", "Encrypt", {"KeyId": long_id, "Plaintext": b"x"})
    assert long.message == only(
        f"Value '{long_id}' at 'keyId' failed to satisfy constraint: "
        "Member must have length less than or equal to 2048"
    )


def test_sensitive_and_blob_values_are_never_echoed() -> None:
    blob = failure("kms", "Encrypt", {"KeyId": "k", "Plaintext": b"s" * 4097})
    assert blob.message == only(
        "Value at 'plaintext' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096"
    )
    secret = "hunter2" * 10000
    err = failure("secretsmanager", "CreateSecret", {"Name": "n", "SecretString": secret})
    assert "hunter2" not in err.message
    assert err.message == only(
        "Value at 'secretString' failed to satisfy constraint: "
        "Member must have length less than or equal to 65536"
    )


def test_integer_range() -> None:
    low = failure("kms", "GenerateRandom", {"NumberOfBytes": 0})
    assert low.message == only(
        "Value '0' at 'numberOfBytes' failed to satisfy constraint: "
        "Member must have value greater than or equal to 1"
    )
    high = failure("iam", "ListUsers", {"MaxItems": 1001})
    assert high.message == only(
        "Value '1001' at 'maxItems' failed to satisfy constraint: "
        "Member must have value less than or equal to 1000"
    )


def test_list_length_bounds() -> None:
    empty = failure("ssm", "GetParameters", {"Names": []})
    assert empty.message == only(
        "Value '[]' at 'names' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    names = [f"/p{i}" for i in range(11)]
    many = failure("ssm", "GetParameters", {"Names": names})
    assert many.message.endswith("Member must have length less than or equal to 10")
    assert "'[/p0, /p1," in many.message


def test_enum_values() -> None:
    err = failure(
        "kms", "Encrypt", {"KeyId": "k", "Plaintext": b"x", "EncryptionAlgorithm": "ROT13"}
    )
    assert err.message == only(
        "Value 'ROT13' at 'encryptionAlgorithm' failed to satisfy constraint: Member must "
        "satisfy enum value set: [SYMMETRIC_DEFAULT, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, SM2PKE]"
    )
    iam = failure("iam", "ListPolicies", {"Scope": "Everything"})
    assert iam.code == "ValidationError"
    assert "enum value set: [All, AWS, Local]" in iam.message


def test_pattern() -> None:
    err = failure("kms", "CreateKey", {"XksKeyId": "has space"})
    assert err.message == only(
        "Value 'has space' at 'xksKeyId' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: ^[a-zA-Z0-9-_.]+$"
    )


def test_several_constraints_on_one_value_count_separately() -> None:
    err = failure("iam", "CreateUser", {"UserName": "x y" * 30})
    assert err.message.startswith("2 validation errors detected: ")
    assert "length less than or equal to 64" in err.message
    assert "regular expression pattern" in err.message


def test_nested_paths() -> None:
    err = failure("kms", "CreateKey", {"Tags": [{"TagKey": "ok", "TagValue": "v"}, {"TagKey": ""}]})
    assert err.message == (
        "2 validation errors detected: "
        "Value null at 'tags.2.member.tagValue' failed to satisfy constraint: "
        "Member must not be null; "
        "Value '' at 'tags.2.member.tagKey' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    nested = failure("kms", "GenerateRandom", {"Recipient": {"KeyEncryptionAlgorithm": "X"}})
    assert "at 'recipient.keyEncryptionAlgorithm'" in nested.message


def test_map_size_keys_and_list_values() -> None:
    spec = load_service("ssm")
    with pytest.raises(ServiceError) as caught:
        validate_input(spec, "StartAutomationExecution", {"DocumentName": "doc", "Parameters": {}})
    assert caught.value.message == only(
        "Value '{}' at 'parameters' failed to satisfy constraint: "
        "Member must have length greater than or equal to 1"
    )
    params = {"DocumentName": "doc", "Parameters": {"": ["v"], "k": ["x"] * 51}}
    with pytest.raises(ServiceError) as caught:
        validate_input(spec, "StartAutomationExecution", params)
    message = caught.value.message
    assert message.startswith("2 validation errors detected: ")
    assert (
        "at 'parameters' failed to satisfy constraint: Map keys must satisfy constraint: "
        "[Member must have length greater than or equal to 1]"
    ) in message
    assert (
        "at 'parameters.k' failed to satisfy constraint: Member must have length less than"
        in message
    )


def test_map_scalar_values_are_summarised() -> None:
    spec = _synth_json()
    with pytest.raises(ServiceError) as caught:
        validate_input(spec, "Put", {"Labels": {"a": "toolong", "b": "ok", "c": "x" * 9}})
    assert caught.value.message == only(
        "Value '{a=toolong, b=ok, c=xxxxxxxxx}' at 'labels' failed to satisfy constraint: "
        "Map value must satisfy constraint: [Member must have length less than or equal to 3]"
    )


def test_patterns_python_cannot_compile_are_skipped() -> None:
    assert compile_pattern(r"[\p{L}\p{Z}]+") is None
    assert compile_pattern(r"[a-z&&[^b]]+") is None
    assert compile_pattern(r"[\w]+") is not None
    spec = _synth_json()
    validate_input(spec, "Put", {"Word": "ünïcode words"})


def test_recursive_shapes_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    # SSM's InventoryAggregator refers to itself through Aggregators.
    spec = load_service("ssm")
    deep = {"Expression": "AWS:Application.Name", "Aggregators": [{"Expression": "x" * 1001}]}
    with pytest.raises(ServiceError) as caught:
        validate_input(spec, "GetInventory", {"Aggregators": [deep]})
    assert "at 'aggregators.1.member.aggregators.1.member.expression'" in caught.value.message


_SYNTH_JSON: dict[str, Any] = {
    "version": "2.0",
    "metadata": {
        "apiVersion": "2020-01-01",
        "protocol": "json",
        "jsonVersion": "1.0",
        "targetPrefix": "Synth_20200101",
        "serviceId": "SynthJson",
        "signatureVersion": "v4",
        "endpointPrefix": "synthjson",
        "uid": "synthjson-2020-01-01",
    },
    "operations": {
        "Put": {
            "name": "Put",
            "http": {"method": "POST", "requestUri": "/"},
            "input": {"shape": "PutInput"},
        }
    },
    "shapes": {
        "PutInput": {
            "type": "structure",
            "members": {"Labels": {"shape": "Labels"}, "Word": {"shape": "Word"}},
        },
        "Labels": {"type": "map", "key": {"shape": "Key"}, "value": {"shape": "Short"}},
        "Key": {"type": "string"},
        "Short": {"type": "string", "max": 3},
        "Word": {"type": "string", "pattern": "[\\p{L}\\p{Z}]+"},
    },
}


def _synth_json() -> ServiceSpec:
    model = ServiceModel(_SYNTH_JSON, "synthjson")
    return ServiceSpec(
        name="synthjson",
        protocol="json",
        target_prefix="Synth_20200101",
        signing_name="synthjson",
        model=model,
        api_version="2020-01-01",
        json_version="1.0",
        operations=frozenset(model.operation_names),
    )
