"""The seed file schema: YAML in, validated :class:`SeedFile` out, no store.

Every problem is reported, each as ``FILE:LINE: PATH: message`` (for example
``seed.yaml:14: keys[1].material[0].hex: not hexadecimal``), so one run of
``strongroom kms seed`` shows everything to fix. The schema is described for
users in docs/design/kms-seeding.md; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from strongroom.crypto.kms import KEY_SPECS, KmsCryptoError, validate_imported_material
from strongroom.crypto.kms.specs import validate_spec_usage
from strongroom.services.kms import seed_fields as read
from strongroom.services.kms.aliases import MAX_ALIASES_PER_KEY
from strongroom.services.kms.resolve import is_key_id
from strongroom.services.kms.seed_fields import Checker, SeedError
from strongroom.services.kms.seed_yaml import YamlError, YNode, load

SEED_VERSION = 1
MIN_PERIOD, MAX_PERIOD, DEFAULT_PERIOD = 90, 2560, 365
MAX_DESCRIPTION = 8192
_ORIGINS = ("AWS_KMS", "EXTERNAL")

_TOP_FIELDS = ("version", "account", "region", "keys", "aliases")
_KEY_FIELDS = (
    "id",
    "account",
    "region",
    "description",
    "key_spec",
    "key_usage",
    "origin",
    "multi_region",
    "enabled",
    "rotation",
    "material",
    "policy",
    "tags",
    "aliases",
)
_ROTATION_FIELDS = ("enabled", "period_days")
_ALIAS_FIELDS = ("name", "target", "account", "region")


@dataclass
class SeedKey:
    line: int
    account: str
    region: str
    key_id: str
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    origin: str = "AWS_KMS"
    multi_region: bool = False
    description: str = ""
    enabled: bool = True
    rotation_enabled: bool = False
    rotation_period_days: int = DEFAULT_PERIOD
    # Backing keys, oldest first (the last is current); empty: generate once.
    materials: list[bytes] = field(default_factory=list)
    material_lines: list[int] = field(default_factory=list)
    policy: str | None = None  # None: the default key policy
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def where(self) -> tuple[str, str, str]:
        return self.account, self.region, self.key_id


@dataclass
class SeedAlias:
    line: int
    account: str
    region: str
    name: str
    target: str  # key id


@dataclass
class SeedFile:
    source: str
    keys: list[SeedKey] = field(default_factory=list)
    aliases: list[SeedAlias] = field(default_factory=list)


def default_usage(key_spec: str) -> str:
    """The natural KeyUsage of a spec, so a seed file may leave it out."""
    usages = KEY_SPECS[key_spec].key_usages
    return "ENCRYPT_DECRYPT" if "ENCRYPT_DECRYPT" in usages else usages[0]


def parse_seed(text: str, source: str, *, default_account: str, default_region: str) -> SeedFile:
    """Validate a seed document; :class:`SeedError` lists every problem found."""
    try:
        root = load(text)
    except YamlError as exc:
        raise SeedError([f"{source}:{exc.line}: {exc}"]) from None
    check = Checker(source)
    top = check.fields(root, "", _TOP_FIELDS)
    if "version" in top and top["version"].as_int() != SEED_VERSION:
        check.fail(top["version"].line, "version", f"must be {SEED_VERSION}")
    account = default_account
    if "account" in top:
        account = read.account(check, top["account"], "account") or account
    region = default_region
    if "region" in top:
        region = read.region(check, top["region"], "region") or region
    seed = SeedFile(source)
    for i, node in enumerate(check.items(top["keys"], "keys") if "keys" in top else []):
        key = _key(check, node, f"keys[{i}]", account, region, seed)
        if key is not None:
            seed.keys.append(key)
    for i, node in enumerate(check.items(top["aliases"], "aliases") if "aliases" in top else []):
        alias = _alias(check, node, f"aliases[{i}]", seed, account, region)
        if alias is not None:
            seed.aliases.append(alias)
    _cross_checks(check, seed)
    if check.problems:
        raise SeedError(check.problems)
    return seed


def _key(
    check: Checker, node: YNode, path: str, account: str, region: str, seed: SeedFile
) -> SeedKey | None:
    f = check.fields(node, path, _KEY_FIELDS)
    before = len(check.problems)
    if "id" not in f:
        check.fail(node.line, path, "'id' is required (a key id such as 1234abcd-12ab-…)")
        return None
    key_id = check.text(f["id"], f"{path}.id")
    if key_id is not None and not is_key_id(key_id):
        check.fail(
            f["id"].line,
            f"{path}.id",
            f"'{key_id}' is not a key id: a UUID, or mrk- and 32 hex digits",
        )
    key = SeedKey(node.line, account, region, (key_id or "").lower())
    if "account" in f:
        key.account = read.account(check, f["account"], f"{path}.account") or account
    if "region" in f:
        key.region = read.region(check, f["region"], f"{path}.region") or region
    if "description" in f:
        key.description = (
            check.text(f["description"], f"{path}.description", max_len=MAX_DESCRIPTION) or ""
        )
    if "key_spec" in f:
        key.key_spec = (
            check.choice(f["key_spec"], f"{path}.key_spec", list(KEY_SPECS)) or key.key_spec
        )
    key.key_usage = default_usage(key.key_spec)
    if "key_usage" in f:
        key.key_usage = check.text(f["key_usage"], f"{path}.key_usage") or key.key_usage
    try:
        validate_spec_usage(key.key_spec, key.key_usage)
    except KmsCryptoError as exc:
        where = f.get("key_usage") or f.get("key_spec") or node
        check.fail(where.line, f"{path}.key_usage", str(exc))
    if "origin" in f:
        key.origin = check.choice(f["origin"], f"{path}.origin", _ORIGINS) or key.origin
        if key.origin == "EXTERNAL" and key.key_spec.startswith("ML_"):
            check.fail(
                f["origin"].line, f"{path}.origin", f"{key.key_spec} keys cannot be EXTERNAL"
            )
    key.multi_region = key.key_id.startswith("mrk-")
    if "multi_region" in f:
        value = check.boolean(f["multi_region"], f"{path}.multi_region")
        if value is not None and value != key.multi_region:
            check.fail(
                f["multi_region"].line,
                f"{path}.multi_region",
                "multi-Region keys have ids beginning with mrk-, and only they do",
            )
    if "enabled" in f:
        enabled = check.boolean(f["enabled"], f"{path}.enabled")
        key.enabled = key.enabled if enabled is None else enabled
    if "rotation" in f:
        _rotation(check, f["rotation"], f"{path}.rotation", key)
    if "material" in f:
        key.materials = _materials(check, f["material"], f"{path}.material", key)
        key.material_lines = [e.line for e in _entries(f["material"])]
    if "policy" in f:
        key.policy = read.policy(check, f["policy"], f"{path}.policy")
    if "tags" in f:
        key.tags = read.tags(check, f["tags"], f"{path}.tags")
    for i, alias_node in enumerate(
        check.items(f["aliases"], f"{path}.aliases") if "aliases" in f else []
    ):
        name = read.alias_name(check, alias_node, f"{path}.aliases[{i}]")
        if name is not None:
            seed.aliases.append(
                SeedAlias(alias_node.line, key.account, key.region, name, key.key_id)
            )
    return key if len(check.problems) == before else None


def _rotation(check: Checker, node: YNode, path: str, key: SeedKey) -> None:
    if node.kind == "scalar":  # "rotation: true" for the default period
        value = check.boolean(node, path)
        key.rotation_enabled = bool(value)
    else:
        f = check.fields(node, path, _ROTATION_FIELDS)
        key.rotation_enabled = True
        if "enabled" in f:
            key.rotation_enabled = bool(check.boolean(f["enabled"], f"{path}.enabled"))
        if "period_days" in f:
            period = f["period_days"].as_int()
            if period is None or not MIN_PERIOD <= period <= MAX_PERIOD:
                check.fail(
                    f["period_days"].line,
                    f"{path}.period_days",
                    f"must be a whole number of days from {MIN_PERIOD} to {MAX_PERIOD}",
                )
            else:
                key.rotation_period_days = period
    if key.rotation_enabled and (key.key_spec != "SYMMETRIC_DEFAULT" or key.origin != "AWS_KMS"):
        check.fail(
            node.line,
            path,
            "automatic rotation is supported only on symmetric keys with origin AWS_KMS",
        )


def _entries(node: YNode) -> list[YNode]:
    return node.elements if node.kind == "seq" else [node]


def _materials(check: Checker, node: YNode, path: str, key: SeedKey) -> list[bytes]:
    entries = _entries(node)
    if not entries:
        check.fail(node.line, path, "an empty list: leave 'material' out to generate it")
    if len(entries) > 1 and key.key_spec != "SYMMETRIC_DEFAULT":
        check.fail(node.line, path, f"a {key.key_spec} key has exactly one key material")
    out: list[bytes] = []
    for i, entry in enumerate(entries):
        where = f"{path}[{i}]" if node.kind == "seq" else path
        symmetric = key.key_spec == "SYMMETRIC_DEFAULT" or key.key_spec.startswith("HMAC_")
        if symmetric and "pem" in entry.items:
            check.fail(entry.line, where, f"a {key.key_spec} key takes hex or base64 bytes")
            continue
        raw = read.decode(check, entry, where)
        if raw is None:
            continue
        try:
            raw = validate_imported_material(key.key_spec, raw)
        except KmsCryptoError as exc:
            check.fail(entry.line, where, str(exc))
            continue
        if raw in out:
            check.fail(entry.line, where, f"the same key material as entry {out.index(raw)}")
            continue
        out.append(raw)
    return out


def _alias(
    check: Checker, node: YNode, path: str, seed: SeedFile, account: str, region: str
) -> SeedAlias | None:
    """A top-level alias (local-kms style). Its account and Region default to
    those of the key it targets when the file declares that key, else to the
    file's defaults (the target may be a key created through the API)."""
    f = check.fields(node, path, _ALIAS_FIELDS)
    missing = [n for n in ("name", "target") if n not in f]
    if missing:
        if node.kind == "map":
            check.fail(node.line, path, f"'{missing[0]}' is required")
        return None
    name = read.alias_name(check, f["name"], f"{path}.name")
    target = check.text(f["target"], f"{path}.target")
    if target is not None and not is_key_id(target):
        check.fail(f["target"].line, f"{path}.target", f"'{target}' is not a key id")
        target = None
    if name is None or target is None:
        return None
    target = target.lower()
    declared = [k for k in seed.keys if k.key_id == target]
    if len(declared) == 1:
        account, region = declared[0].account, declared[0].region
    elif len(declared) > 1 and not ("account" in f and "region" in f):
        check.fail(
            node.line,
            path,
            "the target key id is declared in several places: give the alias's account and region",
        )
        return None
    if "account" in f:
        account = read.account(check, f["account"], f"{path}.account") or account
    if "region" in f:
        region = read.region(check, f["region"], f"{path}.region") or region
    return SeedAlias(node.line, account, region, name, target)


def _cross_checks(check: Checker, seed: SeedFile) -> None:
    seen: dict[tuple[str, str, str], int] = {}
    for key in seed.keys:
        if key.where in seen:
            check.fail(
                key.line, "keys", f"key {key.key_id} is declared twice (line {seen[key.where]})"
            )
        seen.setdefault(key.where, key.line)
    names: dict[tuple[str, str, str], SeedAlias] = {}
    per_key: dict[tuple[str, str, str], int] = {}
    for alias in seed.aliases:
        slot = (alias.account, alias.region, alias.name)
        first = names.get(slot)
        if first is not None and first.target != alias.target:
            check.fail(
                alias.line,
                "aliases",
                f"{alias.name} points to {first.target} (line {first.line}) and to {alias.target}",
            )
        names.setdefault(slot, alias)
        target = (alias.account, alias.region, alias.target)
        per_key[target] = per_key.get(target, 0) + 1
    for (_, _, key_id), count in per_key.items():
        if count > MAX_ALIASES_PER_KEY:
            check.fail(
                1,
                "aliases",
                f"key {key_id} has {count} aliases; the limit is {MAX_ALIASES_PER_KEY}",
            )
