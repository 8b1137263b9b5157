"""The Secrets Manager service: one class composed of one mixin per area.

Values are stored only as KMS envelope ciphertext (envelope.py); the
background jobs that purge deleted secrets and run rotations are registered
here, when the platform builds the service.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from strongroom.services.secretsmanager.crossaccount import CrossAccountOperations
from strongroom.services.secretsmanager.lifecycle import LifecycleOperations
from strongroom.services.secretsmanager.policies import PolicyOperations
from strongroom.services.secretsmanager.reads import ReadOperations
from strongroom.services.secretsmanager.rotation import RotationOperations
from strongroom.services.secretsmanager.writes import WriteOperations

if TYPE_CHECKING:
    from strongroom.platform import Platform

ROTATION_JOB_SECONDS = 2.0
PURGE_JOB_SECONDS = 60.0


class SecretsManagerService(
    CrossAccountOperations,
    WriteOperations,
    ReadOperations,
    LifecycleOperations,
    PolicyOperations,
    RotationOperations,
):
    model_name: ClassVar[str] = "secretsmanager"
    partial: ClassVar[dict[str, str]] = {
        "RotateSecret": (
            "RotationLambdaARN names a rotator registered with `strongroom rotators add` "
            "(PostgreSQL/MySQL single and alternating users, HTTP, Python); managed "
            "rotation and managed external secrets are not supported; with "
            "RotateImmediately=false no test step runs"
        ),
        "ValidateResourcePolicy": (
            "the public-access check is a documented rule of thumb, not AWS's automated reasoning"
        ),
        "PutResourcePolicy": "BlockPublicPolicy uses the same rule of thumb",
        "CreateSecret": "OwningService (secrets managed by other services) is never set",
    }

    def __init__(self, platform: Platform) -> None:
        super().__init__(platform)
        if platform.jobs is not None:
            platform.jobs.add("secretsmanager-rotations", ROTATION_JOB_SECONDS, self.rotate_due)
            platform.jobs.add("secretsmanager-purge", PURGE_JOB_SECONDS, self.purge_due)
        platform.on_reset.append(self.clear_caches)

    def clear_caches(self) -> None:
        self.repo.invalidate()
        self.repo.forget_values()
        self._accessed.clear()

    def run_jobs(self, now: datetime) -> None:
        """Both jobs at once (tests and admin tools)."""
        self.purge_due(now)
        self.rotate_due(now)
