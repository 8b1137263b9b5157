"""DeleteParameter(s), LabelParameterVersion, UnlabelParameterVersion.

Labels (User Guide, "Working with parameter labels"): up to 10 per version;
a label names one version at a time, so labelling another version moves it;
a label that breaks the naming rules is returned in ``InvalidLabels`` and not
applied. Deleting a parameter deletes every version, label, tag, policy
schedule and share with it.
"""

from __future__ import annotations

from typing import Any

from strongroom.context import RequestContext
from strongroom.errors import ServiceError
from strongroom.services.ssm import errors
from strongroom.services.ssm.common import SsmBase
from strongroom.services.ssm.names import valid_label
from strongroom.services.ssm.records import Parameter

MAX_LABELS_PER_VERSION = 10


class ManageOperations(SsmBase):
    # -- deletion ------------------------------------------------------------------

    def delete_parameter(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ref, entry = self.existing(ctx, "DeleteParameter", params.get("Name"))
        deleted = self.remove(entry.param)
        if deleted is None:
            raise errors.not_found(ref.requested)
        self.change_event(deleted, "Delete")
        return {}

    def delete_parameters(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        done: list[str] = []
        invalid: list[str] = []
        for raw in dict.fromkeys(str(n) for n in params.get("Names") or ()):
            try:
                ref = self.ref(ctx, raw, allow_selector=False)
            except ServiceError:
                invalid.append(raw)
                continue
            entry = self.lookup(ref)
            self.authorize(ctx, "DeleteParameters", ref, entry)
            deleted = self.remove(entry.param) if entry is not None else None
            if deleted is None:
                invalid.append(raw)
                continue
            self.change_event(deleted, "Delete")
            done.append(raw)
        return {"DeletedParameters": done, "InvalidParameters": invalid}

    def remove(self, param: Parameter) -> Parameter | None:
        """Delete a parameter and everything hanging off it; None if already gone."""
        with self.repo.write() as txn:
            fresh = txn.param(param.account, param.region, param.name)
            if fresh is None:
                return None
            txn.delete_param(fresh)
            txn.add_count(fresh.account, fresh.region, fresh.current.tier, -1)
        return fresh

    # -- labels ------------------------------------------------------------------------

    def label_parameter_version(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        ref, entry = self.existing(ctx, "LabelParameterVersion", params.get("Name"))
        labels = [str(label) for label in params.get("Labels") or ()]
        with self.repo.write() as txn:
            param = txn.param(entry.param.account, entry.param.region, entry.param.name)
            if param is None:
                raise errors.not_found(ref.requested)
            version = int(params.get("ParameterVersion") or param.current.version)
            self._require_version(param, version, ref.requested)
            invalid = [label for label in labels if not valid_label(label)]
            for label in labels:
                if label not in invalid:
                    param.labels[label] = version
            if len(param.labels_of(version)) > MAX_LABELS_PER_VERSION:
                raise errors.label_limit()
            txn.put_param(param)
        self.change_event(param, "LabelParameterVersion")
        return {"InvalidLabels": invalid, "ParameterVersion": version}

    def unlabel_parameter_version(
        self, ctx: RequestContext, params: dict[str, Any]
    ) -> dict[str, Any]:
        ref, entry = self.existing(ctx, "UnlabelParameterVersion", params.get("Name"))
        labels = [str(label) for label in params.get("Labels") or ()]
        version = int(params.get("ParameterVersion") or 0)
        with self.repo.write() as txn:
            param = txn.param(entry.param.account, entry.param.region, entry.param.name)
            if param is None:
                raise errors.not_found(ref.requested)
            self._require_version(param, version, ref.requested)
            removed = [label for label in labels if param.labels.get(label) == version]
            for label in removed:
                del param.labels[label]
            txn.put_param(param)
        invalid = [label for label in labels if label not in removed]
        return {"RemovedLabels": removed, "InvalidLabels": invalid}

    @staticmethod
    def _require_version(param: Parameter, version: int, requested: str) -> None:
        if version not in param.versions:
            raise errors.version_not_found(
                f"Systems Manager could not find version {version} of {requested}. "
                "Verify the version and try again."
            )
