"""AWS Systems Manager Parameter Store (the parameter operations of ``ssm``)."""

from strongroom.services.ssm.service import SsmService

__all__ = ["SsmService"]
