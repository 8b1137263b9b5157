"""AWS Secrets Manager: secrets stored as KMS envelope ciphertext, versions
and staging labels, resource policies, replication and rotation."""

from strongroom.services.secretsmanager.service import SecretsManagerService

__all__ = ["SecretsManagerService"]
