"""Turn operation input and output into CloudTrail's requestParameters and
responseElements, with every secret removed.

Driven by the botocore shapes, like the protocol layer:

* a value whose shape is marked ``sensitive`` (KMS Plaintext, IAM passwords
  and secret access keys, Secrets Manager SecretString, SSM parameter
  values, ...) becomes ``HIDDEN_DUE_TO_SECURITY_REASONS``, as CloudTrail
  shows it; a sensitive structure or list is hidden whole;
* members whose names say they are secret but whose shapes AWS did not mark
  (STS ``SessionToken``, ``Password``, ``PrivateKey``...) are hidden too;
* blobs are left out entirely (CloudTrail never records ciphertext blobs or
  binary secrets);
* structure member names become lowerCamelCase, as in CloudTrail; map keys
  (encryption context, tags) are kept as they are;
* timestamps become ISO 8601 strings.

A member the shape does not know is dropped: only modelled data is recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

# Member names that are secret whatever their shape says (several are not
# marked sensitive in the models: STS tokenType, SSM's parameter Value in
# some operations).
SECRET_MEMBER_NAMES = frozenset(
    {
        "Password",
        "NewPassword",
        "OldPassword",
        "SecretAccessKey",
        "SessionToken",
        "SecretString",
        "SecretBinary",
        "PrivateKey",
        "PrivateKeyPlaintext",
        "Plaintext",
        "ClientSecret",
        "SAMLAssertion",
        "WebIdentityToken",
        "TokenCode",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "KeyStorePassword",
        "RawSecretAccessKey",
    }
)


class _Omit:
    pass


_OMIT = _Omit()


def lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _convert(shape: Shape, value: Any, depth: int) -> Any:
    kind = shape.type_name
    if kind == "blob" or isinstance(value, (bytes, bytearray, memoryview)):
        return _OMIT  # even a sensitive one: CloudTrail leaves blobs out
    if shape.metadata.get("sensitive"):
        return HIDDEN
    if depth > 32:  # recursive shapes (IAM policies are strings; be safe)
        return _OMIT
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            return _OMIT
        return _structure(shape, value, depth)
    if isinstance(shape, ListShape):
        if not isinstance(value, list):
            return _OMIT
        items = [_convert(shape.member, item, depth + 1) for item in value]
        return [item for item in items if item is not _OMIT]
    if isinstance(shape, MapShape):
        if not isinstance(value, dict):
            return _OMIT
        out: dict[str, Any] = {}
        for key, item in value.items():
            converted = _convert(shape.value, item, depth + 1)
            if converted is not _OMIT:
                out[str(key)] = converted
        return out
    if kind == "timestamp" and isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


# What to do with a structure member, decided once per shape (every
# request's parameters and result go through here).
_HIDE, _LEAVE_OUT, _SCALAR, _STRING_MAP, _CONVERT = range(5)
_SCALAR_TYPES = frozenset({"string", "integer", "long", "boolean", "double", "float"})
_Plan = dict[str, tuple[str, int, Shape]]
_plans: dict[int, tuple[StructureShape, _Plan]] = {}
_PLANS_MAX = 50_000


def _is_string_map(shape: Shape) -> bool:
    """A map whose values are strings recorded as they are."""
    if not isinstance(shape, MapShape) or shape.metadata.get("sensitive"):
        return False
    value = shape.value
    return value.type_name == "string" and not value.metadata.get("sensitive")


def _plan(shape: StructureShape) -> _Plan:
    hit = _plans.get(id(shape))
    if hit is not None and hit[0] is shape:
        return hit[1]
    plan: _Plan = {}
    for name, member in shape.members.items():
        if member.type_name == "blob":
            how = _LEAVE_OUT
        elif name in SECRET_MEMBER_NAMES:
            how = _HIDE
        elif member.type_name in _SCALAR_TYPES and not member.metadata.get("sensitive"):
            how = _SCALAR
        elif _is_string_map(member):
            how = _STRING_MAP
        else:
            how = _CONVERT
        plan[name] = (lower_camel(name), how, member)
    if len(_plans) >= _PLANS_MAX:  # botocore caches its shapes: a bound, not a policy
        _plans.clear()
    _plans[id(shape)] = (shape, plan)
    return plan


def _structure(shape: StructureShape, value: dict[str, Any], depth: int) -> dict[str, Any]:
    plan = _plan(shape)
    out: dict[str, Any] = {}
    for name, item in value.items():
        entry = plan.get(name)
        if entry is None:
            continue
        out_name, how, member = entry
        if how == _SCALAR and type(item) is str and depth < 32:
            out[out_name] = item  # what _convert returns for it, without the checks
        elif (
            how == _STRING_MAP
            and type(item) is dict
            and depth < 31
            and (copied := _string_map_copy(item)) is not None
        ):
            # Encryption contexts, tags: what _convert gives, at a fraction
            # of the cost (every KMS call through SSM or Secrets Manager
            # records one).
            out[out_name] = copied
        elif how == _HIDE:
            out[out_name] = HIDDEN
        elif how != _LEAVE_OUT:
            converted = _convert(member, item, depth + 1)
            if converted is not _OMIT:
                out[out_name] = converted
    return out


def _string_map_copy(item: dict[Any, Any]) -> dict[str, str] | None:
    """A copy of a map of text to text; None for anything else (which the
    general conversion then handles). A plain loop: half the cost of all()
    over a generator and a comprehension."""
    for key, value in item.items():
        if type(value) is not str or type(key) is not str:
            return None
    return dict(item)


def redact(shape: Shape | None, value: dict[str, Any] | None) -> dict[str, Any] | None:
    """requestParameters/responseElements for ``value`` of ``shape``; None when empty."""
    if shape is None or not value or not isinstance(shape, StructureShape):
        return None
    if shape.metadata.get("sensitive"):
        return {"value": HIDDEN}
    out = _structure(shape, value, 0)
    return out or None
