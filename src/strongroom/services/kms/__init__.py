"""AWS KMS (TrentService, JSON 1.1): keys, policies, grants, aliases, cryptography."""

from strongroom.services.kms.service import KmsService

__all__ = ["KmsService"]
