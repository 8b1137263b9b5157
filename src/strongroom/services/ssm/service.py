"""The SSM service (Parameter Store operations): one class composed of one
mixin per area of the API. The policy job is registered here, when the
platform builds the service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from strongroom.services.ssm.describe import DescribeOperations
from strongroom.services.ssm.jobs import EVERY_SECONDS, PolicyJobs
from strongroom.services.ssm.manage import ManageOperations
from strongroom.services.ssm.put import PutOperations
from strongroom.services.ssm.reads import ReadOperations
from strongroom.services.ssm.sharing import SharingOperations
from strongroom.services.ssm.tags import TagOperations

if TYPE_CHECKING:
    from strongroom.platform import Platform


class SsmService(
    PutOperations,
    ReadOperations,
    DescribeOperations,
    ManageOperations,
    TagOperations,
    SharingOperations,
):
    model_name: ClassVar[str] = "ssm"
    partial: ClassVar[dict[str, str]] = {
        "AddTagsToResource": "ResourceType Parameter only (InvalidResourceType otherwise)",
        "RemoveTagsFromResource": "ResourceType Parameter only (InvalidResourceType otherwise)",
        "ListTagsForResource": "ResourceType Parameter only (InvalidResourceType otherwise)",
        "GetServiceSetting": (
            "Parameter Store settings only (default-parameter-tier, high-throughput-enabled)"
        ),
        "UpdateServiceSetting": (
            "Parameter Store settings only; high-throughput-enabled is recorded, no throttling"
        ),
        "ResetServiceSetting": "Parameter Store settings only",
        "PutResourcePolicy": "parameters only (no OpsItemGroup); no AWS RAM resource shares",
        "GetResourcePolicies": "parameters only (no OpsItemGroup)",
        "DeleteResourcePolicy": "parameters only (no OpsItemGroup); DeletionMode is ignored",
        "GetParameter": "no public parameters (/aws/service/...) or Secrets Manager references",
        "PutParameter": (
            "aws:ec2:image values are checked for format, not against an EC2 image catalogue; "
            "the aws:ssm:integration data type is not supported"
        ),
    }

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        self.policy_jobs = PolicyJobs(self)
        if platform.jobs is not None:
            platform.jobs.add("ssm-parameter-policies", EVERY_SECONDS, self.policy_jobs.run)
        platform.on_reset.append(self.repo.invalidate)
