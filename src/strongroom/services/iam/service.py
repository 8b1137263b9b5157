"""The IAM service: one class composed of one mixin per area of the API.

Each mixin (users, groups, roles, inline and managed policies, attachments,
access keys, account views, the simulator) is a small module; the gateway
sees a single :class:`IamService` with one method per operation.
"""

from __future__ import annotations

from typing import ClassVar

from strongroom.services.iam.account import AccountOperations
from strongroom.services.iam.attach import AttachmentOperations
from strongroom.services.iam.groups import GroupOperations
from strongroom.services.iam.inline import InlinePolicyOperations
from strongroom.services.iam.keys import AccessKeyOperations
from strongroom.services.iam.managed import ManagedPolicyOperations
from strongroom.services.iam.roles import RoleOperations
from strongroom.services.iam.simulate import SimulationOperations
from strongroom.services.iam.users import UserOperations


class IamService(
    UserOperations,
    GroupOperations,
    RoleOperations,
    InlinePolicyOperations,
    ManagedPolicyOperations,
    AttachmentOperations,
    AccessKeyOperations,
    AccountOperations,
    SimulationOperations,
):
    model_name: ClassVar[str] = "iam"
