"""Keyrings, materials managers and encryption contexts from command-line options; shared
by ``strongroom encrypt``, ``decrypt`` and ``exec``.

Wrapping keys follow the AWS Encryption SDK CLI: KMS key ids, ARNs and aliases (the
KMS client follows the standard AWS configuration: credential chain,
``AWS_ENDPOINT_URL_KMS`` / ``AWS_ENDPOINT_URL``, region), ``raw-aes:NS:NAME:KEYFILE`` and
``raw-rsa:NS:NAME:PEMFILE[:PADDING]``. Decryption can also use KMS discovery
(``--discovery``, optionally restricted with ``--discovery-account`` and
``--discovery-partition``), and both directions can cache data keys (``--caching``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from strongroom import sdk
from strongroom.sdk import Keyring, MaterialsManager

F = TypeVar("F", bound=Callable[..., Any])

# --caching SPEC: "MAX_AGE" or comma-separated NAME=VALUE pairs with these names
_CACHING_NAMES = {
    "max-age": "max_age",
    "max-messages": "max_messages_encrypted",
    "max-bytes": "max_bytes_encrypted",
    "capacity": "capacity",
}


def parse_context(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(
                f"expected KEY=VALUE, got {pair!r}", param_hint="--encryption-context"
            )
        out[key] = value
    return out


def kms_client(region: str | None) -> Any:
    import boto3  # the standard AWS configuration: credential chain, AWS_ENDPOINT_URL_KMS, region

    return boto3.client("kms", region_name=region) if region else boto3.client("kms")


def _raw_rsa(rest: str) -> Keyring:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    parts = rest.split(":")
    if len(parts) not in (3, 4):
        raise click.BadParameter(
            "raw-rsa:NAMESPACE:NAME:PEMFILE[:PADDING]", param_hint="--wrapping-keys"
        )
    try:
        padding = (
            sdk.RsaPadding(parts[3].lower()) if len(parts) == 4 else sdk.RsaPadding.OAEP_SHA256
        )
    except ValueError:
        choices = ", ".join(p.value for p in sdk.RsaPadding)
        raise click.BadParameter(f"RSA padding must be one of {choices}") from None
    pem = Path(parts[2]).read_bytes()
    if b"PRIVATE KEY" in pem:
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise click.BadParameter("not an RSA private key", param_hint="--wrapping-keys")
        return sdk.RawRsaKeyring(parts[0], parts[1], padding, private_key=private)
    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, rsa.RSAPublicKey):
        raise click.BadParameter("not an RSA public key", param_hint="--wrapping-keys")
    return sdk.RawRsaKeyring(parts[0], parts[1], padding, public_key=public)


def keyring_for(spec: str, region: str | None, decrypting: bool) -> Keyring:
    """raw-aes:NS:NAME:KEYFILE, raw-rsa:NS:NAME:PEMFILE[:PADDING], discovery, or a KMS key id."""
    kind, _, rest = spec.partition(":")
    if kind == "raw-aes":
        parts = rest.split(":", 2)
        if len(parts) != 3:
            raise click.BadParameter("raw-aes:NAMESPACE:NAME:KEYFILE", param_hint="--wrapping-keys")
        return sdk.RawAesKeyring(parts[0], parts[1], Path(parts[2]).read_bytes())
    if kind == "raw-rsa":
        return _raw_rsa(rest)
    if spec == "discovery":
        return discovery_keyring(region, decrypting, (), None)
    return sdk.AwsKmsKeyring(kms_client(region), spec.removeprefix("key="))


def discovery_keyring(
    region: str | None, decrypting: bool, accounts: Sequence[str], partition: str | None
) -> Keyring:
    if not decrypting:
        raise click.UsageError("KMS discovery cannot encrypt: name the wrapping keys")
    if partition and not accounts:
        raise click.UsageError("--discovery-partition needs at least one --discovery-account")
    for account in accounts:
        if not (account.isdigit() and len(account) == 12):
            raise click.BadParameter(
                f"{account!r} is not a 12-digit account id", param_hint="--discovery-account"
            )
    flt = sdk.DiscoveryFilter(partition or "aws", tuple(accounts)) if accounts else None
    client = kms_client(region)
    return sdk.AwsKmsDiscoveryKeyring(
        client,
        discovery_filter=flt,
        region=getattr(getattr(client, "meta", None), "region_name", None),
    )


def build_keyring(kw: dict[str, Any], decrypting: bool) -> Keyring:
    """One keyring from -w/--wrapping-keys and the --discovery options."""
    specs: Sequence[str] = kw.get("wrapping_keys") or ()
    region = kw.get("region")
    accounts: Sequence[str] = kw.get("discovery_accounts") or ()
    partition = kw.get("discovery_partition")
    discovery = kw.get("discovery", False)
    if (accounts or partition) and not discovery:
        raise click.UsageError("--discovery-account/--discovery-partition need --discovery")
    rings = [keyring_for(s, region, decrypting) for s in specs]
    if discovery:
        rings.append(discovery_keyring(region, decrypting, accounts, partition))
    if not rings:
        raise click.UsageError("at least one --wrapping-keys/-w (or --discovery) is required")
    if len(rings) == 1:
        return rings[0]
    if decrypting:
        return sdk.MultiKeyring(children=rings)
    return sdk.MultiKeyring(generator=rings[0], children=rings[1:])


def parse_caching(spec: str) -> dict[str, Any]:
    """'60' or 'max-age=60,max-messages=1000,max-bytes=1048576,capacity=10'."""
    try:
        return {"max_age": float(spec)}
    except ValueError:
        pass
    out: dict[str, Any] = {}
    for item in spec.replace(" ", ",").split(","):
        if not item:
            continue
        name, sep, value = item.partition("=")
        key = _CACHING_NAMES.get(name.strip().replace("_", "-"))
        if not sep or key is None:
            names = ", ".join(_CACHING_NAMES)
            raise click.BadParameter(
                f"expected NAME=VALUE with NAME in {names}, got {item!r}", param_hint="--caching"
            )
        try:
            out[key] = float(value) if key == "max_age" else int(value)
        except ValueError:
            raise click.BadParameter(f"{name} needs a number", param_hint="--caching") from None
    if "max_age" not in out:
        raise click.BadParameter("max-age is required", param_hint="--caching")
    return out


def build_cmm(keyring: Keyring, caching: str | None) -> MaterialsManager | None:
    """A caching CMM when --caching was given, else None (the keyring is used directly)."""
    if not caching:
        return None
    options = parse_caching(caching)
    cache = sdk.LocalMaterialsCache(capacity=options.pop("capacity", 100))
    try:
        return sdk.CachingMaterialsManager(sdk.DefaultMaterialsManager(keyring), cache, **options)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--caching") from None


def key_options(func: F) -> F:
    """-w, --discovery*, --region, -c, --commitment-policy, --max-encrypted-data-keys, --caching."""
    options = [
        click.option(
            "-w",
            "--wrapping-keys",
            "wrapping_keys",
            multiple=True,
            help="KMS key id/ARN/alias, raw-aes:NS:NAME:KEYFILE or "
            "raw-rsa:NS:NAME:PEMFILE[:PADDING]. Repeatable.",
        ),
        click.option(
            "--discovery", is_flag=True, help="Decrypt with whichever KMS key wrapped the data key."
        ),
        click.option(
            "--discovery-account",
            "discovery_accounts",
            multiple=True,
            help="With --discovery: only keys of this account (repeatable).",
        ),
        click.option(
            "--discovery-partition",
            default=None,
            help="With --discovery-account: the accounts' partition (default aws).",
        ),
        click.option("--region", default=None, help="KMS region (default: the AWS configuration)."),
        click.option(
            "-c",
            "--encryption-context",
            "context",
            multiple=True,
            help="KEY=VALUE; repeatable. Enforced on decrypt.",
        ),
        click.option(
            "--commitment-policy",
            type=click.Choice([p.value for p in sdk.CommitmentPolicy]),
            default="require-encrypt-require-decrypt",
        ),
        click.option(
            "--max-encrypted-data-keys", "max_edks", type=click.IntRange(min=1), default=None
        ),
        click.option(
            "--caching",
            default=None,
            metavar="SPEC",
            help="Cache data keys: MAX_AGE seconds, or "
            "max-age=S,max-messages=N,max-bytes=N[,capacity=N].",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func
