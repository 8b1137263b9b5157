"""Regional replicas and cross-account replicas."""

from __future__ import annotations

import json

from tests.services.secretsmanager.sm_support import ACCOUNT, OTHER_ACCOUNT, OTHER_REGION, SmEnv


def test_replicate_at_create_and_follow_changes(sm: SmEnv) -> None:
    created = sm.call(
        "CreateSecret",
        Name="rep",
        SecretString="one",
        AddReplicaRegions=[{"Region": OTHER_REGION}],
        Tags=[{"Key": "a", "Value": "b"}],
    )
    assert created["ReplicationStatus"] == [{"Region": OTHER_REGION, "Status": "InSync"}]
    replica = sm.call("DescribeSecret", SecretId="rep", region=OTHER_REGION)
    assert replica["PrimaryRegion"] == "us-east-1"
    assert replica["ARN"] == created["ARN"].replace("us-east-1", OTHER_REGION)
    assert replica["Tags"] == [{"Key": "a", "Value": "b"}]
    assert sm.value_in(OTHER_REGION, "rep") == "one"
    sm.call("PutSecretValue", SecretId="rep", SecretString="two")
    assert sm.value_in(OTHER_REGION, "rep") == "two"
    # A replica is read-only.
    err = sm.error("PutSecretValue", SecretId="rep", SecretString="x", region=OTHER_REGION)
    assert err.code == "InvalidRequestException"
    assert "replica" in err.message
    # And encrypted under its own region's key.
    versions = sm.call("ListSecretVersionIds", SecretId="rep", region=OTHER_REGION)["Versions"]
    assert all(f":{OTHER_REGION}:" in v["KmsKeyIds"][0] for v in versions)


def test_replicate_later_remove_and_promote(sm: SmEnv) -> None:
    sm.secret("r", "v")
    out = sm.call(
        "ReplicateSecretToRegions", SecretId="r", AddReplicaRegions=[{"Region": OTHER_REGION}]
    )
    assert out["ReplicationStatus"][0]["Status"] == "InSync"
    err = sm.error("DeleteSecret", SecretId="r")
    assert err.code == "InvalidRequestException"
    sm.call("RemoveRegionsFromReplication", SecretId="r", RemoveReplicaRegions=[OTHER_REGION])
    assert (
        sm.error("DescribeSecret", SecretId="r", region=OTHER_REGION).code
        == "ResourceNotFoundException"
    )
    assert "ReplicationStatus" not in sm.call("DescribeSecret", SecretId="r")
    sm.call("ReplicateSecretToRegions", SecretId="r", AddReplicaRegions=[{"Region": "ap-south-1"}])
    sm.call("StopReplicationToReplica", SecretId="r", region="ap-south-1")
    sm.call("PutSecretValue", SecretId="r", SecretString="standalone", region="ap-south-1")
    assert sm.value_in("ap-south-1", "r") == "standalone"
    assert sm.value("r")["SecretString"] == "v"
    assert "ReplicationStatus" not in sm.call("DescribeSecret", SecretId="r")


def test_replica_region_rules(sm: SmEnv) -> None:
    sm.secret("x", "v")
    for regions in ([{"Region": "us-east-1"}], [{"Region": "not a region"}]):
        err = sm.error("ReplicateSecretToRegions", SecretId="x", AddReplicaRegions=regions)
        assert err.code == "InvalidParameterException"
    # A secret of that name already in the region: Failed unless forced.
    sm.call("CreateSecret", Name="x", SecretString="theirs", region=OTHER_REGION)
    out = sm.call(
        "ReplicateSecretToRegions", SecretId="x", AddReplicaRegions=[{"Region": OTHER_REGION}]
    )
    assert out["ReplicationStatus"][0]["Status"] == "Failed"
    assert "already exists" in out["ReplicationStatus"][0]["StatusMessage"]
    sm.call("RemoveRegionsFromReplication", SecretId="x", RemoveReplicaRegions=[OTHER_REGION])
    forced = sm.call(
        "ReplicateSecretToRegions",
        SecretId="x",
        AddReplicaRegions=[{"Region": OTHER_REGION}],
        ForceOverwriteReplicaSecret=True,
    )
    assert forced["ReplicationStatus"][0]["Status"] == "InSync"
    assert sm.value_in(OTHER_REGION, "x") == "v"


def test_cross_account_replica(sm: SmEnv) -> None:
    primary = sm.secret("primary", "shared-value")["ARN"]
    # Account B: a key that lets account A encrypt for the replica, and the replica.
    b_key = sm.kms_call(
        "CreateKey",
        principal=sm.other_admin,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
                        "Action": "kms:*",
                        "Resource": "*",
                    },
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": ["kms:GenerateDataKey", "kms:Encrypt"],
                        "Resource": "*",
                    },
                ],
            }
        ),
    )["KeyMetadata"]
    replica = sm.call(
        "CreateSecret",
        principal=sm.other_admin,
        Name="replica",
        KmsKeyId=b_key["Arn"],
        CrossAccountPrimaryARN=primary,
    )["ARN"]
    # Without B's consent (a resource policy granting AcceptCrossAccountReplication): denied.
    err = sm.error("AssociateCrossAccountReplica", SecretId=primary, CrossAccountReplicaARN=replica)
    assert err.code == "AccessDeniedException"
    sm.call(
        "PutResourcePolicy",
        principal=sm.other_admin,
        SecretId=replica,
        ResourcePolicy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                        "Action": "secretsmanager:AcceptCrossAccountReplication",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    sm.sm.repo.invalidate()
    out = sm.call("AssociateCrossAccountReplica", SecretId=primary, CrossAccountReplicaARN=replica)
    assert out["ReplicationStatus"] == "InSync"
    got = sm.call("GetSecretValue", principal=sm.other_admin, SecretId="replica")
    assert got["SecretString"] == "shared-value"
    sm.call("PutSecretValue", SecretId=primary, SecretString="next")
    assert (
        sm.call("GetSecretValue", principal=sm.other_admin, SecretId="replica")["SecretString"]
        == "next"
    )
    described = sm.call("DescribeSecret", SecretId=primary)
    assert described["CrossAccountReplicas"][0]["ReplicaSecretARN"] == replica
    assert (
        sm.call("DescribeSecret", principal=sm.other_admin, SecretId="replica")[
            "CrossAccountPrimary"
        ]["ReplicationStatus"]
        == "InSync"
    )
    # B cannot write to the replica; the primary cannot be deleted while linked.
    err = sm.error("UpdateSecret", principal=sm.other_admin, SecretId="replica", SecretString="no")
    assert err.code == "InvalidRequestException"
    err = sm.error(
        "PutSecretValue", principal=sm.other_admin, SecretId="replica", SecretString="no"
    )
    assert err.code == "InvalidRequestException"
    assert sm.error("DeleteSecret", SecretId=primary).code == "InvalidRequestException"
    sm.call("DisassociateCrossAccountReplica", SecretId=primary, CrossAccountReplicaARN=replica)
    sm.call("PutSecretValue", SecretId=primary, SecretString="after")
    assert (
        sm.call("GetSecretValue", principal=sm.other_admin, SecretId="replica")["SecretString"]
        == "next"
    )
    sm.call("StopReplicationToReplica", principal=sm.other_admin, SecretId="replica")
    assert "CrossAccountPrimary" not in sm.call(
        "DescribeSecret", principal=sm.other_admin, SecretId="replica"
    )
    sm.call("DeleteSecret", SecretId=primary, ForceDeleteWithoutRecovery=True)


def test_cross_account_replica_creation_rules(sm: SmEnv) -> None:
    primary = sm.secret("p", "v")["ARN"]
    err = sm.error(
        "CreateSecret", principal=sm.other_admin, Name="r", CrossAccountPrimaryARN=primary
    )
    assert err.code == "InvalidParameterException"
    err = sm.error(
        "CreateSecret",
        principal=sm.other_admin,
        Name="r",
        KmsKeyId="alias/x",
        SecretString="v",
        CrossAccountPrimaryARN=primary,
    )
    assert err.code == "InvalidParameterException"
