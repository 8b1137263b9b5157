"""CloudTrail events for admin commands that change state outside the API.

``strongroom accounts create``, ``root rotate``, ``rotators add|remove``,
``kms seed`` (and ``strongroom server`` when it creates the default account
or applies ``--seed``) open the store directly: no request reaches the
gateway, so they record their own events, with the API's guarantee:

* a *request entry* is committed before the command changes anything (if
  it cannot be, the command stops and changes nothing);
* the *event* (outcome, error, what changed) is committed before the
  command reports success. If that fails after the change was made, the
  command fails, and the request entry is later turned into an event with
  ``errorCode: "Strongroom:OutcomeUnknown"`` by the server's recovery job,
  as for an API request whose process died.

The record follows CloudTrail's service events (``eventType:
"AwsServiceEvent"``: the change did not come through an API call), with
``eventSource: "strongroom.cli"`` and a ``userIdentity`` that names the
local operator: the OS user (``userName``, ``principalId`` = uid) that ran
the command, ``invokedBy: "strongroom.cli"``. ``sourceIPAddress`` is the
host name, ``userAgent`` ``strongroom-cli/<version>``, and
``additionalEventData`` has the command and operator details (including
``SUDO_USER`` when run through sudo). Nothing secret is recorded: callers
pass only names, ARNs and counts (never credentials, HMAC keys or key
material). One action touching several accounts or regions gets one event
per account and region, sharing ``requestID`` and ``sharedEventID``.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from strongroom import __version__
from strongroom.audit.log import AuditRow, RowKind, encode_attrs
from strongroom.audit.record import EVENT_VERSION, new_event_id, new_uuid
from strongroom.audit.resources import Resource, arn_account, arn_type
from strongroom.audit.sealing import seal_rows
from strongroom.audit.trail import encode_record, to_us
from strongroom.protocol.codec import iso_seconds

if TYPE_CHECKING:
    from strongroom.audit.trail import AuditTrail
    from strongroom.platform import Platform

EVENT_SOURCE = "strongroom.cli"
EVENT_TYPE = "AwsServiceEvent"
_MAX_TEXT = 1024


class AdminAuditError(Exception):
    """The audit record of an admin action could not be persisted.

    ``applied`` says whether the change was made (only its outcome is
    unrecorded) or the command stopped before changing anything."""

    def __init__(self, message: str, *, applied: bool) -> None:
        super().__init__(message)
        self.applied = applied


@dataclass(frozen=True)
class Operator:
    """Who ran the command, as the operating system knows them."""

    user_name: str
    uid: int | None
    host: str
    pid: int
    sudo_user: str | None = None

    @classmethod
    def current(cls) -> Operator:
        uid = os.getuid() if hasattr(os, "getuid") else None
        name = ""
        if uid is not None:
            # The process's real user, not $USER (which anyone can set).
            with contextlib.suppress(KeyError, ImportError):
                import pwd

                name = pwd.getpwuid(uid).pw_name
        if not name:
            import getpass

            try:
                name = getpass.getuser()
            except Exception:  # no passwd entry and no login variables
                name = f"uid-{uid}" if uid is not None else "unknown"
        return cls(name, uid, socket.gethostname(), os.getpid(), os.environ.get("SUDO_USER"))

    def details(self) -> dict[str, Any]:
        out: dict[str, Any] = {"userName": self.user_name, "host": self.host, "pid": self.pid}
        if self.uid is not None:
            out["uid"] = self.uid
        if self.sudo_user:
            out["sudoUser"] = self.sudo_user
        return out


def resource(arn: str, type_: str | None = None) -> dict[str, str]:
    """A ``resources`` entry: ARN, type (from the ARN unless given), account."""
    return Resource(arn, type_ or arn_type(arn), arn_account(arn)).record()


@dataclass
class AdminAction:
    """One admin action: its request entries, then its events."""

    trail: AuditTrail | None
    event_name: str
    partitions: Sequence[tuple[str, str]]  # (account, region), one event each
    command: str
    operator: Operator
    now: datetime
    request_parameters: dict[str, Any] | None = None
    # Filled by the command as it learns them.
    resources: list[dict[str, str]] = field(default_factory=list)
    response: dict[str, Any] | None = None
    # Per-partition responseElements, when they differ (kms seed).
    response_for: Callable[[str, str], dict[str, Any] | None] | None = None
    request_id: str = field(default_factory=new_uuid)
    _event_ids: list[str] = field(init=False)
    _shared: str | None = field(init=False)

    def __post_init__(self) -> None:
        if not self.partitions:
            raise ValueError("an admin action needs at least one (account, region)")
        self._event_ids = [new_event_id() for _ in self.partitions]
        self._shared = new_uuid() if len(self.partitions) > 1 else None

    # -- records -----------------------------------------------------------------

    def _resources_of(self, account: str) -> list[dict[str, str]]:
        """An account's trail lists only its own resources (and account-less ones)."""
        return [r for r in self.resources if r.get("accountId") in (None, account)]

    def _record(
        self, event_id: str, account: str, region: str, *, error: tuple[str, str] | None = None
    ) -> dict[str, Any]:
        identity: dict[str, Any] = {"accountId": account, "invokedBy": EVENT_SOURCE}
        identity["userName"] = self.operator.user_name
        if self.operator.uid is not None:
            identity["principalId"] = str(self.operator.uid)
        record: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": identity,
            "eventTime": iso_seconds(self.now),
            "eventSource": EVENT_SOURCE,
            "eventName": self.event_name,
            "awsRegion": region,
            "sourceIPAddress": self.operator.host,
            "userAgent": f"strongroom-cli/{__version__}",
        }
        if error is not None:
            record["errorCode"] = error[0]
            if error[1]:
                record["errorMessage"] = error[1][:_MAX_TEXT]
        response = self.response
        if self.response_for is not None:
            response = self.response_for(account, region)
        record["requestParameters"] = self.request_parameters
        record["responseElements"] = response if error is None else None
        record["additionalEventData"] = {
            "command": self.command,
            "operator": self.operator.details(),
        }
        record["requestID"] = self.request_id
        record["eventID"] = event_id
        record["readOnly"] = False
        resources = self._resources_of(account)
        if resources:
            record["resources"] = resources
        record["eventType"] = EVENT_TYPE
        record["managementEvent"] = True
        record["recipientAccountId"] = account
        if self._shared is not None:
            record["sharedEventID"] = self._shared
        record["eventCategory"] = "Management"
        return record

    def _attrs(self, account: str) -> tuple[tuple[str, str], ...]:
        attrs = [("n", self.event_name), ("s", EVENT_SOURCE), ("u", self.operator.user_name)]
        for item in self._resources_of(account):
            res = Resource(item["ARN"], item["type"], item.get("accountId"))
            attrs += [("t", res.type), ("m", res.arn), ("m", res.name)]
        return encode_attrs(attrs)

    def _rows(self, kind: RowKind, error: tuple[str, str] | None = None) -> list[AuditRow]:
        assert self.trail is not None
        rows = []
        for event_id, (account, region) in zip(self._event_ids, self.partitions, strict=True):
            body = encode_record(self._record(event_id, account, region, error=error))
            rows.append(
                AuditRow(
                    kind,
                    event_id,
                    account,
                    region,
                    to_us(self.now),
                    False,
                    self._attrs(account),
                    body,
                    event_id if kind is RowKind.EVENT else None,
                )
            )
        seal_rows(self.trail.sealer, rows)
        return rows

    # -- persistence -------------------------------------------------------------

    def begin(self) -> None:
        """Commit the request entries; nothing may change before this returns."""
        if self.trail is None:
            return
        try:
            self.trail.log.append(self._rows(RowKind.INTENT), to_us(self.now))
        except Exception as exc:
            raise AdminAuditError(
                f"the audit trail could not be written ({type(exc).__name__}); nothing was changed",
                applied=False,
            ) from exc

    def finish(self, error: tuple[str, str] | None = None) -> None:
        """Commit the events (completing the request entries)."""
        if self.trail is None:
            return
        try:
            self.trail.log.append(self._rows(RowKind.EVENT, error), to_us(self.now))
        except Exception as exc:
            raise AdminAuditError(
                f"the change was made but its audit event could not be written "
                f"({type(exc).__name__}); it will be recorded as Strongroom:OutcomeUnknown",
                applied=error is None,
            ) from exc


def _describe(exc: Exception) -> tuple[str, str]:
    """The error's class, and its message only for the domain errors the
    commands raise (a database driver's message may quote a connection)."""
    message = str(exc) if isinstance(exc, (ValueError, LookupError)) else ""
    return type(exc).__name__, message


@contextlib.contextmanager
def admin_action(
    platform: Platform,
    event_name: str,
    partitions: Sequence[tuple[str, str]],
    *,
    command: str,
    request_parameters: dict[str, Any] | None = None,
    resources: Sequence[dict[str, str]] = (),
    describe_error: Callable[[Exception], tuple[str, str]] = _describe,
) -> Iterator[AdminAction]:
    """Record the action run in the ``with`` block (see the module docstring).

    An exception from the block is recorded as the event's error
    (``describe_error`` gives its code and a message that must hold no
    secret) and re-raised. An interruption (KeyboardInterrupt...) leaves
    the request entry for the recovery job: the outcome is unknown.
    Records nothing when the trail is disabled.
    """
    action = AdminAction(
        platform.audit,
        event_name,
        list(dict.fromkeys(partitions)),
        command,
        Operator.current(),
        platform.clock(),
        request_parameters,
        list(resources),
    )
    action.begin()
    try:
        yield action
    except Exception as exc:
        # The failure itself matters more than its record; an unrecorded
        # one is recovered from the request entry later.
        with contextlib.suppress(AdminAuditError):
            action.finish(describe_error(exc))
        raise
    action.finish()
