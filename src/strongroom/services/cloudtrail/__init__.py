"""AWS CloudTrail: the read side of the audit trail (JSON 1.1 ``cloudtrail``)."""

from strongroom.services.cloudtrail.service import CloudTrailService

__all__ = ["CloudTrailService"]
