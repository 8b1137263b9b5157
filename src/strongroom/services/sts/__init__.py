"""AWS Security Token Service (the Query-protocol ``sts`` service)."""

from strongroom.services.sts.service import StsService

__all__ = ["StsService"]
