"""Which Service class serves which botocore service."""

from __future__ import annotations

from strongroom.services.base import Service
from strongroom.services.cloudtrail.service import CloudTrailService
from strongroom.services.events.service import EventsService
from strongroom.services.iam.service import IamService
from strongroom.services.kms.service import KmsService
from strongroom.services.secretsmanager.service import SecretsManagerService
from strongroom.services.ssm.service import SsmService
from strongroom.services.sts.service import StsService

SERVICE_CLASSES: dict[str, type[Service]] = {
    CloudTrailService.model_name: CloudTrailService,
    EventsService.model_name: EventsService,
    IamService.model_name: IamService,
    KmsService.model_name: KmsService,
    SecretsManagerService.model_name: SecretsManagerService,
    SsmService.model_name: SsmService,
    StsService.model_name: StsService,
}
