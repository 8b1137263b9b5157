"""Operation outputs survive the Query serializer and botocore's own parser.

This is what boto3 will see: XML from ``serialize_query_response`` parsed
by botocore, with IAM's URL-encoded policy documents decoded by botocore's
``json_decode_policies`` handler back into dicts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.handlers import json_decode_policies
from botocore.loaders import Loader
from botocore.model import ServiceModel
from botocore.parsers import QueryParser
from tests.support.fake_platform import ACCOUNT, ServiceEnv

from strongroom.protocol.models import load_service
from strongroom.protocol.query_protocol import serialize_query_response

Wire = Callable[..., dict[str, Any]]

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:List*", "Resource": "*"}],
}


@pytest.fixture()
def wire(env: ServiceEnv) -> Wire:
    models = {
        s: ServiceModel(Loader().load_service_model(s, "service-2"), s) for s in ("iam", "sts")
    }

    def call(service: str, operation: str, **params: Any) -> dict[str, Any]:
        out = env.call(service, operation, params)
        body = serialize_query_response(load_service(service), operation, out, "request-1")
        op = models[service].operation_model(operation)
        parsed: dict[str, Any] = QueryParser().parse(
            {"body": body, "headers": {}, "status_code": 200}, op.output_shape
        )
        if service == "iam":
            json_decode_policies(parsed, op)
        parsed.pop("ResponseMetadata", None)
        return parsed

    return call


def test_policy_documents_reach_boto3_as_dicts(wire: Wire) -> None:
    role = wire("iam", "CreateRole", RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    assert role["Role"]["AssumeRolePolicyDocument"] == TRUST
    wire("iam", "PutRolePolicy", RoleName="r", PolicyName="p", PolicyDocument=json.dumps(POLICY))
    assert wire("iam", "GetRolePolicy", RoleName="r", PolicyName="p")["PolicyDocument"] == POLICY
    arn = wire("iam", "CreatePolicy", PolicyName="m", PolicyDocument=json.dumps(POLICY))["Policy"][
        "Arn"
    ]
    version = wire("iam", "GetPolicyVersion", PolicyArn=arn, VersionId="v1")["PolicyVersion"]
    assert version["Document"] == POLICY and version["IsDefaultVersion"] is True
    details = wire("iam", "GetAccountAuthorizationDetails", Filter=["Role"])
    assert details["RoleDetailList"][0]["AssumeRolePolicyDocument"] == TRUST


def test_lists_and_maps_round_trip(wire: Wire) -> None:
    wire("iam", "CreateUser", UserName="alice", Tags=[{"Key": "a", "Value": "b"}])
    assert wire("iam", "GetUser", UserName="alice")["User"]["Tags"] == [{"Key": "a", "Value": "b"}]
    page = wire("iam", "ListPolicies", MaxItems=2)
    assert len(page["Policies"]) == 2 and page["IsTruncated"] is True and page["Marker"]
    assert wire("iam", "GetAccountSummary")["SummaryMap"]["Users"] == 2


def test_sts_credentials_round_trip(wire: Wire, env: ServiceEnv) -> None:
    wire("iam", "CreateRole", RoleName="r", AssumeRolePolicyDocument=json.dumps(TRUST))
    out = wire("sts", "AssumeRole", RoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", RoleSessionName="s1")
    creds = out["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and creds["SessionToken"]
    assert creds["Expiration"].timestamp() == env.clock().timestamp() + 3600
    assert out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s1"
    assert wire("sts", "GetCallerIdentity")["Account"] == ACCOUNT
