"""Which operations a key's state allows: AWS's "Key states" table as data.

Source: KMS Developer Guide, "Key states of AWS KMS keys" (effect of the key
state on each operation). A refused operation answers ``DisabledException``
where AWS does for a disabled key and ``KMSInvalidStateException`` otherwise,
with AWS's wording "<key ARN> is pending deletion." and so on.
"""

from __future__ import annotations

from strongroom.errors import ServiceError
from strongroom.services.kms import errors
from strongroom.services.kms.records import KeyRecord, KeyState

E = KeyState.ENABLED
D = KeyState.DISABLED
PD = KeyState.PENDING_DELETION
PI = KeyState.PENDING_IMPORT
PRD = KeyState.PENDING_REPLICA_DELETION
U = KeyState.UNAVAILABLE

ANY = frozenset(KeyState)
CRYPTO = frozenset({E})

ALLOWED: dict[str, frozenset[KeyState]] = {
    "CancelKeyDeletion": frozenset({PD}),
    "CreateAlias": frozenset({E, D, PI, U}),
    "UpdateAlias": frozenset({E, D, PI, U}),
    "CreateGrant": frozenset({E, D, PI, U}),
    "DisableKey": frozenset({E, D, U}),
    "EnableKey": frozenset({E, D, U}),
    "DisableKeyRotation": frozenset({E}),
    "EnableKeyRotation": frozenset({E}),
    "RotateKeyOnDemand": frozenset({E}),
    "GetParametersForImport": frozenset({E, D, PI}),
    "ImportKeyMaterial": frozenset({E, D, PI}),
    "DeleteImportedKeyMaterial": frozenset({E, D, PI}),
    "ScheduleKeyDeletion": frozenset({E, D, PI, U}),
    "TagResource": frozenset({E, D, PI, U}),
    "UntagResource": frozenset({E, D, PI, U}),
    "UpdateKeyDescription": frozenset({E, D, PI, U}),
    "ReplicateKey": frozenset({E, D}),
    "UpdatePrimaryRegion": frozenset({E, D}),
}

# Operations for which a disabled key answers DisabledException (not KMSInvalidState).
DISABLED_EXCEPTION = frozenset(
    {
        "DisableKeyRotation",
        "EnableKeyRotation",
        "RotateKeyOnDemand",
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "ReEncryptFrom",
        "ReEncryptTo",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "Sign",
        "Verify",
        "GenerateMac",
        "VerifyMac",
        "DeriveSharedSecret",
        "GetPublicKey",
    }
)

_WORDS = {
    PD: "pending deletion",
    PI: "pending import",
    PRD: "pending replica deletion",
    U: "unavailable",
    D: "disabled",
    E: "enabled",
    KeyState.CREATING: "being created",
    KeyState.UPDATING: "being updated",
}


def state_error(record: KeyRecord, operation: str) -> ServiceError:
    state = record.state_enum
    if state is D and operation in DISABLED_EXCEPTION:
        return errors.disabled(record.arn)
    return errors.invalid_state(f"{record.arn} is {_WORDS[state]}.")


def check_state(record: KeyRecord, operation: str) -> None:
    """Raise unless ``operation`` is allowed on a key in ``record``'s state.

    Operations not in the table are allowed in every state (DescribeKey,
    GetKeyPolicy, ListGrants, RetireGrant, …); cryptographic operations are
    checked with :func:`check_usable`.
    """
    allowed = ALLOWED.get(operation)
    if allowed is not None and record.state_enum not in allowed:
        raise state_error(record, operation)


def check_usable(record: KeyRecord, operation: str) -> None:
    """Cryptographic operations need an Enabled key."""
    if record.state != "Enabled":
        raise state_error(record, operation)
