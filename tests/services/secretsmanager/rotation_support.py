"""A toy rotation function (a Lambda-style handler) for rotation tests.

It follows AWS's contract: createSecret puts the current value plus "+" as
AWSPENDING, setSecret does nothing (or fails when told to), finishSecret
moves AWSCURRENT. ``register`` writes it as a module into ``directory`` (put
on sys.path by the caller) and registers it as a Python rotator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from strongroom.rotators.registry import RotatorRecord, RotatorRegistry
from strongroom.storage.base import Store

MODULE = """
def handler(event, context):
    client = context.client
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    if context.config.get("fail_step") == step:
        raise RuntimeError("the database is unreachable")
    if context.config.get("lazy"):
        return
    if step == "createSecret":
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage="AWSPENDING")
            return
        except Exception as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        current = client.get_secret_value(SecretId=arn, VersionStage="AWSCURRENT")
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=current["SecretString"] + "+",
            VersionStages=["AWSPENDING"],
        )
    elif step == "finishSecret":
        stages = client.describe_secret(SecretId=arn)["VersionIdsToStages"]
        holder = next(v for v, s in stages.items() if "AWSCURRENT" in s)
        if holder != token:
            client.update_secret_version_stage(
                SecretId=arn,
                VersionStage="AWSCURRENT",
                MoveToVersionId=token,
                RemoveFromVersionId=holder,
            )
"""


def register(
    store: Store,
    directory: Path,
    *,
    account: str,
    region: str = "us-east-1",
    name: str = "toy",
    module: str = "toy_rotator",
    **config: Any,
) -> str:
    path = directory / f"{module}.py"
    if not path.exists():
        path.write_text(MODULE)
    record = RotatorRecord(
        name=name,
        account=account,
        region=region,
        type="python",
        created="2024-05-01T00:00:00+00:00",
        config={"entry_point": f"{module}:handler", **config},
    )
    RotatorRegistry(store).put(record)
    return record.arn
