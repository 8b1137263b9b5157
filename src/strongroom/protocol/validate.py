"""Input validation against the model's constraints, worded as AWS words it.

AWS checks required members, lengths, numeric ranges, patterns and enum
sets server-side and answers with one message listing every violation::

    1 validation error detected: Value 'x' at 'keyId' failed to satisfy
    constraint: Member must have length less than or equal to 2048

The member path is the lowerCamel member name, nested as ``a.b`` and
``list.1.member``. A sensitive member's value is never echoed ("Value at
'plaintext' ..."), and neither is a blob's. JSON services answer
``ValidationException``; the Query services (IAM, STS) ``ValidationError``.

One validator closure is built per shape, once, and a shape whose subtree
has no constraint at all gets no validator: most members then cost nothing.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from botocore.model import Shape, StructureShape

from strongroom.errors import ServiceError
from strongroom.protocol.models import ServiceSpec, lower_camel

# (value, path, errors): appends one message per violated constraint.
Validator = Callable[[Any, str, list[str]], None]
# value -> the constraints it violates (scalars only).
Check = Callable[[Any], list[str]]

_SCALARS = frozenset(
    {"string", "integer", "long", "float", "double", "blob", "boolean", "timestamp"}
)

_patterns: dict[str, re.Pattern[str] | None] = {}
_op_validators: dict[tuple[str, str], Validator | None] = {}
_builders: dict[str, _Builder] = {}


def validate_input(spec: ServiceSpec, operation: str, params: Mapping[str, Any]) -> None:
    """Raise the service's validation error when ``params`` violate the model."""
    key = (spec.name, operation)
    try:
        validator = _op_validators[key]
    except KeyError:
        validator = _op_validators[key] = _build_operation(spec, operation)
    if validator is None:
        return
    errors: list[str] = []
    try:
        validator(params, "", errors)
    except RecursionError:
        errors.append("The request is nested too deeply")
    if errors:
        raise validation_failure(spec, errors)


def prepare_validation(spec: ServiceSpec, operation: str) -> None:
    """Build the operation's validator now rather than on its first request."""
    key = (spec.name, operation)
    if key not in _op_validators:
        _op_validators[key] = _build_operation(spec, operation)


def validation_failure(spec: ServiceSpec, errors: list[str]) -> ServiceError:
    code = "ValidationError" if spec.protocol == "query" else "ValidationException"
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    return ServiceError(code, f"{count} validation {noun} detected: " + "; ".join(errors), 400)


def compile_pattern(pattern: str) -> re.Pattern[str] | None:
    """The model's (Java-flavoured) regex compiled for Python, or None if Python can't.

    A pattern we cannot compile (Java's ``\\p{L}`` Unicode classes) is skipped
    rather than guessed at: rejecting valid input would be worse than
    accepting input AWS would refuse. ``re.ASCII`` because Java's ``\\w``,
    ``\\d`` and ``\\s`` are ASCII-only; ``&&`` (a Java class intersection)
    means something else to Python, so such a pattern is skipped too.
    """
    try:
        return _patterns[pattern]
    except KeyError:
        pass
    compiled: re.Pattern[str] | None = None
    if "&&" not in pattern:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # FutureWarning on Java-only syntax
                compiled = re.compile(pattern, re.ASCII)
        except (re.error, OverflowError, RecursionError):
            compiled = None
    _patterns[pattern] = compiled
    return compiled


def render(value: Any) -> str:
    """A value as a Java ``toString`` would print it inside an AWS message."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{render(k)}={render(v)}" for k, v in value.items()) + "}"
    return str(value)


def _message(value: Any, path: str, constraint: str, *, hidden: bool) -> str:
    if value is None:
        return f"Value null at '{path}' failed to satisfy constraint: {constraint}"
    if hidden:
        return f"Value at '{path}' failed to satisfy constraint: {constraint}"
    return f"Value '{render(value)}' at '{path}' failed to satisfy constraint: {constraint}"


def _build_operation(spec: ServiceSpec, operation: str) -> Validator | None:
    op = spec.operation(operation)
    if op is None or op.input_shape is None:
        return None
    builder = _builders.get(spec.name)
    if builder is None:
        builder = _builders[spec.name] = _Builder()
    return builder.validator(op.input_shape)


def _scalar_check(shape: Shape) -> Check | None:
    """The constraints of one scalar shape as a single function, or None if it has none."""
    meta = shape.metadata
    kind = shape.type_name
    low = meta.get("min")
    high = meta.get("max")
    if kind in ("string", "blob"):
        min_len = int(low) if low else None  # min 0 can never fail
        max_len = int(high) if high is not None else None
        pattern = (
            compile_pattern(meta["pattern"]) if kind == "string" and "pattern" in meta else None
        )
        pattern_text = meta.get("pattern", "")
        enum: list[str] = list(shape.enum) if kind == "string" else []
        enum_set = frozenset(enum)
        enum_text = "Member must satisfy enum value set: [" + ", ".join(enum) + "]"
        if min_len is None and max_len is None and pattern is None and not enum:
            return None

        def check_text(value: Any) -> list[str]:
            failed: list[str] = []
            size = len(value)
            if min_len is not None and size < min_len:
                failed.append(f"Member must have length greater than or equal to {min_len}")
            if max_len is not None and size > max_len:
                failed.append(f"Member must have length less than or equal to {max_len}")
            if pattern is not None and pattern.fullmatch(value) is None:
                failed.append(f"Member must satisfy regular expression pattern: {pattern_text}")
            if enum_set and value not in enum_set:
                failed.append(enum_text)
            return failed

        return check_text
    if kind in ("integer", "long", "float", "double"):
        if low is None and high is None:
            return None
        lo = float(low) if low is not None else None
        hi = float(high) if high is not None else None
        lo_text = _number_text(low)
        hi_text = _number_text(high)

        def check_number(value: Any) -> list[str]:
            failed: list[str] = []
            if lo is not None and value < lo:
                failed.append(f"Member must have value greater than or equal to {lo_text}")
            if hi is not None and value > hi:
                failed.append(f"Member must have value less than or equal to {hi_text}")
            return failed

        return check_number
    return None


def _number_text(bound: Any) -> str:
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


class _Builder:
    """Builds validators for one service, memoized by shape name (models recurse)."""

    def __init__(self) -> None:
        self._memo: dict[str, Validator | None] = {}
        self._constrained: dict[str, bool] = {}

    def validator(self, shape: Shape) -> Validator | None:
        name = shape.name
        if name in self._memo:
            return self._memo[name]
        if not self._has_constraints(shape, set()):
            self._memo[name] = None
            return None
        kind = shape.type_name
        if kind in _SCALARS:
            built = self._scalar(shape)
        elif kind == "list":
            built = self._list(shape)
        elif kind == "map":
            built = self._map(shape)
        elif isinstance(shape, StructureShape):
            built = self._structure(shape)
        else:  # pragma: no cover - document shapes are not used by our services
            built = None
        self._memo[name] = built
        return built

    def _has_constraints(self, shape: Shape, visiting: set[str]) -> bool:
        """Whether anything in ``shape``'s subtree can fail validation.

        A result found while cutting a cycle may be too optimistic, so only
        results that did not depend on a cut are remembered.
        """
        name = shape.name
        known = self._constrained.get(name)
        if known is not None:
            return known
        if name in visiting:
            return False
        kind = shape.type_name
        if kind in _SCALARS:
            result = _scalar_check(shape) is not None
            self._constrained[name] = result
            return result
        meta = shape.metadata
        if kind in ("list", "map") and (meta.get("min") or meta.get("max") is not None):
            self._constrained[name] = True
            return True
        if isinstance(shape, StructureShape) and shape.required_members:
            self._constrained[name] = True
            return True
        visiting.add(name)
        children: list[Shape] = []
        if kind == "list":
            children = [shape.member]
        elif kind == "map":
            children = [shape.key, shape.value]
        elif isinstance(shape, StructureShape):
            children = list(shape.members.values())
        result = any(self._has_constraints(child, visiting) for child in children)
        visiting.discard(name)
        if result or not visiting:
            self._constrained[name] = result
        return result

    def _scalar(self, shape: Shape) -> Validator | None:
        check = _scalar_check(shape)
        if check is None:
            return None
        hidden = bool(shape.metadata.get("sensitive")) or shape.type_name == "blob"

        def validate_scalar(value: Any, path: str, errors: list[str]) -> None:
            for constraint in check(value):
                errors.append(_message(value, path, constraint, hidden=hidden))

        return validate_scalar

    def _size_check(self, shape: Shape) -> Check | None:
        low = shape.metadata.get("min")
        high = shape.metadata.get("max")
        if not low and high is None:
            return None
        min_len = int(low) if low else 0
        max_len = int(high) if high is not None else None

        def check_size(value: Any) -> list[str]:
            size = len(value)
            if size < min_len:
                return [f"Member must have length greater than or equal to {min_len}"]
            if max_len is not None and size > max_len:
                return [f"Member must have length less than or equal to {max_len}"]
            return []

        return check_size

    def _list(self, shape: Shape) -> Validator:
        size_check = self._size_check(shape)
        member: list[Validator | None] = [None]

        def validate_list(value: Any, path: str, errors: list[str]) -> None:
            if size_check is not None:
                for constraint in size_check(value):
                    errors.append(_message(value, path, constraint, hidden=False))
            item_validator = member[0]
            if item_validator is not None:
                for index, item in enumerate(value, 1):
                    item_validator(item, f"{path}.{index}.member", errors)

        self._memo[shape.name] = validate_list  # before recursing: the member may refer back
        member[0] = self.validator(shape.member)
        return validate_list

    def _map(self, shape: Shape) -> Validator:
        size_check = self._size_check(shape)
        key_shape: Shape = shape.key
        value_shape: Shape = shape.value
        key_check = _scalar_check(key_shape)
        value_check = _scalar_check(value_shape) if value_shape.type_name in _SCALARS else None
        nested: list[Validator | None] = [None]

        def validate_map(value: Any, path: str, errors: list[str]) -> None:
            if size_check is not None:
                for constraint in size_check(value):
                    errors.append(_message(value, path, constraint, hidden=False))
            if key_check is not None:
                failed = _collect(key_check, value.keys())
                if failed:
                    constraint = "Map keys must satisfy constraint: [" + ", ".join(failed) + "]"
                    errors.append(_message(value, path, constraint, hidden=False))
            if value_check is not None:
                failed = _collect(value_check, value.values())
                if failed:
                    constraint = "Map value must satisfy constraint: [" + ", ".join(failed) + "]"
                    errors.append(_message(value, path, constraint, hidden=False))
            inner = nested[0]
            if inner is not None:
                for key, item in value.items():
                    inner(item, f"{path}.{key}", errors)

        self._memo[shape.name] = validate_map
        if value_shape.type_name not in _SCALARS:
            nested[0] = self.validator(value_shape)
        return validate_map

    def _structure(self, shape: StructureShape) -> Validator:
        required = [(name, lower_camel(name)) for name in shape.required_members]
        members: list[tuple[str, str, Validator]] = []

        def validate_structure(value: Any, path: str, errors: list[str]) -> None:
            prefix = path + "." if path else ""
            for name, camel in required:
                if value.get(name) is None:
                    errors.append(
                        f"Value null at '{prefix}{camel}' failed to satisfy constraint: "
                        "Member must not be null"
                    )
            for name, camel, member_validator in members:
                item = value.get(name)
                if item is not None:
                    member_validator(item, prefix + camel, errors)

        self._memo[shape.name] = validate_structure
        for name, member_shape in shape.members.items():
            member_validator = self.validator(member_shape)
            if member_validator is not None:
                members.append((name, lower_camel(name), member_validator))
        return validate_structure


def _collect(check: Check, values: Any) -> list[str]:
    failed: list[str] = []
    for item in values:
        for constraint in check(item):
            if constraint not in failed:
                failed.append(constraint)
    return failed
