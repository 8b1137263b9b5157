"""YAML with line numbers, for strict validation of seed files.

``yaml.safe_load`` forgets where each value came from and silently resolves
surprises: ``account: 000000000000`` becomes the integer 0, a hex key made of
digits becomes a number, and a repeated mapping key keeps the last value. A
seed file is a security-relevant declaration, so we compose the node graph
instead and keep, for every value, its line and its source text. The
validator (:mod:`seed_schema`) then decides per field how to read it and can
say exactly which line of the file is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

# Resolved scalar tags -> short names the validator reports ("expected a
# string, got an integer").
_TAGS = {
    "tag:yaml.org,2002:str": "string",
    "tag:yaml.org,2002:int": "integer",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:bool": "boolean",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
    "tag:yaml.org,2002:binary": "binary",
}
_TRUE = frozenset({"true", "yes", "on", "y"})
# Anchors and aliases can make a small file expand exponentially ("billion
# laughs"); no sensible seed file comes near this many values.
_MAX_NODES = 200_000


class YamlError(ValueError):
    """The file is not YAML, or uses YAML features a seed file does not allow."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class YNode:
    """One value of the document: a mapping, a sequence or a scalar."""

    kind: str  # "map", "seq" or "scalar"
    line: int  # 1-based
    type: str = ""  # for scalars: string, integer, boolean, null, number, …
    text: str = ""  # for scalars: the source text (no YAML type resolution)
    items: dict[str, YNode] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)
    elements: list[YNode] = field(default_factory=list)

    @property
    def describe(self) -> str:
        if self.kind == "map":
            return "a mapping"
        if self.kind == "seq":
            return "a list"
        return f"a {self.type}" if self.type != "null" else "null"

    def as_bool(self) -> bool | None:
        """The boolean value of a boolean scalar; None for anything else."""
        if self.kind != "scalar" or self.type != "boolean":
            return None
        return self.text.lower() in _TRUE

    def as_int(self) -> int | None:
        if self.kind != "scalar" or self.type != "integer":
            return None
        try:
            return int(self.text.replace("_", ""), 0)
        except ValueError:
            return None


def _convert(node: Any, budget: list[int], depth: int = 0) -> YNode:
    line = node.start_mark.line + 1
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlError(line, "the document has too many values (aliases expanding?)")
    if depth > 32:
        raise YamlError(line, "the document is nested too deeply")
    if isinstance(node, yaml.MappingNode):
        out = YNode("map", line)
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError(key_line, "mapping keys must be plain names")
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise YamlError(key_line, "YAML merge keys (<<) are not supported in seed files")
            name = str(key_node.value)
            if name in out.items:
                raise YamlError(
                    key_line, f"'{name}' appears twice (first on line {out.key_lines[name]})"
                )
            out.items[name] = _convert(value_node, budget, depth + 1)
            out.key_lines[name] = key_line
        return out
    if isinstance(node, yaml.SequenceNode):
        return YNode("seq", line, elements=[_convert(v, budget, depth + 1) for v in node.value])
    tag = str(node.tag)
    return YNode("scalar", line, type=_TAGS.get(tag, tag), text=str(node.value))


def load(text: str) -> YNode:
    """The single document in ``text`` as a :class:`YNode` tree."""
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlError(line, f"not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"not valid YAML: {exc}") from None
    documents = [d for d in documents if d is not None]
    if not documents:
        raise YamlError(1, "the file is empty")
    if len(documents) > 1:
        raise YamlError(documents[1].start_mark.line + 1, "a seed file holds one YAML document")
    return _convert(documents[0], [_MAX_NODES])
