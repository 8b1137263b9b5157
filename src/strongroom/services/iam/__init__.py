"""AWS Identity and Access Management (the Query-protocol ``iam`` service)."""

from strongroom.services.iam.service import IamService

__all__ = ["IamService"]
