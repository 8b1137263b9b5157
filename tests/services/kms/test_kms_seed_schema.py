"""Seed file validation: every problem reported with its file line and field."""

from __future__ import annotations

import base64
import textwrap

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from strongroom.services.kms.seed_fields import SeedError
from strongroom.services.kms.seed_schema import SeedFile, parse_seed

KEY_ID = "bc436485-5092-42b8-92a3-0aa8b93536dc"
OTHER_ID = "11111111-2222-3333-4444-555555555555"
HEX32 = "5cdaead27fe7da2de47945d73cd6d79e36494e73802f3cd3869f1d2cb0b5d7a9"


def parse(text: str) -> SeedFile:
    return parse_seed(
        textwrap.dedent(text),
        "seed.yaml",
        default_account="000000000000",
        default_region="us-east-1",
    )


def problems(text: str) -> list[str]:
    with pytest.raises(SeedError) as info:
        parse(text)
    return info.value.problems


def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def test_a_full_key_is_read_with_its_defaults() -> None:
    seed = parse(
        f"""
        version: 1
        keys:
          - id: {KEY_ID.upper()}
            description: payments
            material:
              - hex: {HEX32}
              - base64: {base64.b64encode(bytes(32)).decode()}
            rotation: {{period_days: 180}}
            tags: {{team: blue, empty: }}
            aliases: [alias/payments]
        """
    )
    key = seed.keys[0]
    assert key.key_id == KEY_ID  # ids are normalised to lower case
    assert (key.account, key.region) == ("000000000000", "us-east-1")
    assert (key.key_spec, key.key_usage, key.origin) == (
        "SYMMETRIC_DEFAULT",
        "ENCRYPT_DECRYPT",
        "AWS_KMS",
    )
    assert key.materials == [bytes.fromhex(HEX32), bytes(32)]
    assert key.rotation_enabled and key.rotation_period_days == 180
    assert key.tags == {"team": "blue", "empty": ""}
    assert key.policy is None and key.enabled
    assert [(a.name, a.target, a.account) for a in seed.aliases] == [
        ("alias/payments", KEY_ID, "000000000000")
    ]


def test_numbers_keep_their_source_text() -> None:
    # YAML would read these as integers (losing the zeros) or a boolean.
    seed = parse(
        f"""
        account: 000000000123
        keys:
          - id: {KEY_ID}
            description: yes
            material: [{{hex: {"1" * 64}}}]
        """
    )
    assert seed.keys[0].account == "000000000123"
    assert seed.keys[0].description == "yes"
    assert seed.keys[0].materials == [bytes.fromhex("1" * 64)]


def test_key_usage_defaults_to_the_specs_natural_usage() -> None:
    seed = parse(
        f"""
        keys:
          - {{id: {KEY_ID}, key_spec: ECC_NIST_P256}}
          - {{id: {OTHER_ID}, key_spec: HMAC_256}}
        """
    )
    assert [k.key_usage for k in seed.keys] == ["SIGN_VERIFY", "GENERATE_VERIFY_MAC"]


def test_an_asymmetric_key_takes_a_pkcs8_pem() -> None:
    pem = ec_pem()
    text = f"keys:\n  - id: {KEY_ID}\n    key_spec: ECC_NIST_P256\n    material:\n      pem: |\n"
    seed = parse(text + textwrap.indent(pem, " " * 8))
    der = serialization.load_pem_private_key(pem.encode(), None).private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    assert seed.keys[0].materials == [der]


def test_unknown_fields_are_named_with_a_suggestion_and_the_line() -> None:
    found = problems(
        f"""
        keys:
          - id: {KEY_ID}
            KeySpec: RSA_2048
            desc: x
        """
    )
    assert found[0].startswith(
        "seed.yaml:4: keys[0].KeySpec: unknown field (did you mean 'key_spec'?)"
    )
    assert found[1].startswith(
        "seed.yaml:5: keys[0].desc: unknown field (did you mean 'description'?)"
    )


def test_every_problem_is_reported_in_file_order() -> None:
    found = problems(
        f"""
        account: 12
        region: Mars
        keys:
          - id: not-a-key-id
          - id: {KEY_ID}
            key_spec: RSA_9999
            enabled: maybe
            rotation: {{period_days: 30}}
            tags: {{"aws:owner": x}}
            material: [{{hex: zz}}]
            aliases: [app, alias/aws/s3]
        """
    )
    expected = [
        "seed.yaml:2: account: '12' is not a 12-digit account id",
        "seed.yaml:3: region: 'Mars' is not a Region name",
        "seed.yaml:5: keys[0].id: 'not-a-key-id' is not a key id",
        "seed.yaml:7: keys[1].key_spec: 'RSA_9999' is not one of",
        "seed.yaml:8: keys[1].enabled: expected true or false, got a string",
        "seed.yaml:9: keys[1].rotation.period_days: must be a whole number of days from 90",
        "seed.yaml:10: keys[1].tags.aws:owner: tag keys beginning with aws: are reserved",
        "seed.yaml:11: keys[1].material[0].hex: not valid hex",
        "seed.yaml:12: keys[1].aliases[0]: 'app' is not an alias name",
        "seed.yaml:12: keys[1].aliases[1]: alias/aws/ names are reserved",
    ]
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), (line, start)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # Wrong material for the spec.
        (f"- {{id: {KEY_ID}, material: [{{hex: '00ff'}}]}}", "must be 32 bytes"),
        (
            f"- {{id: {KEY_ID}, key_spec: RSA_2048, material: [{{hex: '{HEX32}'}}]}}",
            "DER-encoded PKCS#8",
        ),
        (
            f"- {{id: {KEY_ID}, material: [{{pem: '-----BEGIN PRIVATE KEY-----'}}]}}",
            "a SYMMETRIC_DEFAULT key takes hex or base64",
        ),
        (
            f"- {{id: {KEY_ID}, key_spec: ECC_NIST_P256, material: [{{hex: '00'}}, {{hex: '01'}}]}}",
            "exactly one key material",
        ),
        (
            f"- {{id: {KEY_ID}, material: [{{hex: '{HEX32}'}}, {{hex: '{HEX32}'}}]}}",
            "the same key material as entry 0",
        ),
        (
            f"- {{id: {KEY_ID}, material: [{{hex: '{HEX32}', base64: AA==}}]}}",
            "exactly one of hex, base64 or pem",
        ),
        (f"- {{id: {KEY_ID}, material: []}}", "leave 'material' out"),
        # Spec, usage, origin and rotation rules.
        (
            f"- {{id: {KEY_ID}, key_spec: ECC_NIST_P256, key_usage: ENCRYPT_DECRYPT}}",
            "not compatible",
        ),
        (f"- {{id: {KEY_ID}, key_spec: SM2}}", "not supported by Strongroom"),
        (f"- {{id: {KEY_ID}, key_spec: RSA_2048, rotation: true}}", "only on symmetric keys"),
        (f"- {{id: {KEY_ID}, origin: EXTERNAL, rotation: true}}", "origin AWS_KMS"),
        (f"- {{id: {KEY_ID}, multi_region: true}}", "ids beginning with mrk-"),
        (f"- {{id: {KEY_ID}, policy: {{Statement: nope}}}}", "not a valid key policy"),
        (f"- {{id: {KEY_ID}, policy: 'not json'}}", "not a valid key policy"),
        (f"- {{id: {KEY_ID}}}\n- {{id: {KEY_ID}}}", "declared twice"),
        ("- {description: no id}", "'id' is required"),
        (
            f"- {{id: {KEY_ID}, aliases: [alias/a]}}\n- {{id: {OTHER_ID}, aliases: [alias/a]}}",
            "alias/a points to",
        ),
    ],
)
def test_invalid_keys(body: str, expected: str) -> None:
    text = "keys:\n" + textwrap.indent(body, "  ")
    found = problems(text)
    assert any(expected in p for p in found), found


def test_a_traditional_pem_is_refused_with_the_conversion_command() -> None:
    key = rsa.generate_private_key(65537, 2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    text = f"keys:\n  - id: {KEY_ID}\n    key_spec: RSA_2048\n    material:\n      pem: |\n"
    text += textwrap.indent(pem, " " * 8)
    found = problems(text)
    assert len(found) == 1
    assert "RSA PRIVATE KEY" in found[0] and "openssl pkcs8 -topk8 -nocrypt" in found[0]
    assert found[0].startswith("seed.yaml:5: keys[0].material.pem:")


def test_a_pem_of_another_curve_is_refused() -> None:
    pem = ec_pem()  # P-256
    text = f"keys:\n  - id: {KEY_ID}\n    key_spec: ECC_NIST_P384\n    material:\n      pem: |\n"
    text += textwrap.indent(pem, " " * 8)
    found = problems(text)
    assert "does not match KeySpec ECC_NIST_P384" in found[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "seed.yaml:1: the file is empty"),
        ("keys: [", "not valid YAML"),
        ("keys: []\nkeys: []\n", "seed.yaml:2: 'keys' appears twice (first on line 1)"),
        ("keys: []\n---\nkeys: []\n", "one YAML document"),
        ("- a\n- b\n", "expected a mapping, got a list"),
        ("version: 2\n", "seed.yaml:1: version: must be 1"),
        ("keys: {}\n", "keys: expected a list, got a mapping"),
        ("base: &b {x: 1}\nkeys:\n  - <<: *b\n", "merge keys"),
    ],
)
def test_malformed_documents(text: str, expected: str) -> None:
    found = problems(text)
    assert any(expected in p for p in found), found


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    found = problems("\n".join(lines) + "\n")
    assert any("too many values" in p for p in found), found


def test_top_level_aliases_default_to_their_targets_account() -> None:
    seed = parse(
        f"""
        keys:
          - {{id: {KEY_ID}, account: "444455556666", region: eu-west-1}}
        aliases:
          - {{name: alias/declared, target: {KEY_ID}}}
          - {{name: alias/elsewhere, target: {OTHER_ID}}}
          - {{name: alias/explicit, target: {OTHER_ID}, account: "777788889999"}}
        """
    )
    where = {a.name: (a.account, a.region, a.target) for a in seed.aliases}
    assert where["alias/declared"] == ("444455556666", "eu-west-1", KEY_ID)
    assert where["alias/elsewhere"] == ("000000000000", "us-east-1", OTHER_ID)
    assert where["alias/explicit"] == ("777788889999", "us-east-1", OTHER_ID)
