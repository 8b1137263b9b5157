"""``strongroom encrypt`` / ``strongroom decrypt``: the Encryption SDK on the command
line, modelled on the AWS Encryption SDK CLI (same message format, same suite
names and commitment policies, raw keys that interoperate with its raw keyrings).

Output files are written to a temporary name next to the target and renamed only
once the whole message verified, so a failed decryption (bad tag, bad signature,
context mismatch) never leaves plaintext behind. Exit codes: 0 success, 1 the
operation failed, 2 usage error.
"""

from __future__ import annotations

import base64
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import click

from strongroom import sdk
from strongroom.sdk import AlgorithmSuite, CommitmentPolicy, Header, Keyring

_POLICIES = [p.value for p in CommitmentPolicy]
_PROGRESS_THRESHOLD = 8 * 1024 * 1024


def _context(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(
                f"expected KEY=VALUE, got {pair!r}", param_hint="--encryption-context"
            )
        out[key] = value
    return out


def _kms_client(region: str | None) -> Any:
    import boto3  # the standard AWS configuration: credential chain, AWS_ENDPOINT_URL_KMS, region

    return boto3.client("kms", region_name=region) if region else boto3.client("kms")


def _keyring_for(spec: str, region: str | None, decrypting: bool) -> Keyring:
    """raw-aes:NS:NAME:KEYFILE, raw-rsa:NS:NAME:PEMFILE[:PADDING], discovery, or a KMS key id."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    kind, _, rest = spec.partition(":")
    if kind == "raw-aes":
        parts = rest.split(":", 2)
        if len(parts) != 3:
            raise click.BadParameter("raw-aes:NAMESPACE:NAME:KEYFILE", param_hint="--wrapping-keys")
        return sdk.RawAesKeyring(parts[0], parts[1], Path(parts[2]).read_bytes())
    if kind == "raw-rsa":
        parts = rest.split(":")
        if len(parts) not in (3, 4):
            raise click.BadParameter(
                "raw-rsa:NAMESPACE:NAME:PEMFILE[:PADDING]", param_hint="--wrapping-keys"
            )
        padding = (
            sdk.RsaPadding(parts[3].lower()) if len(parts) == 4 else sdk.RsaPadding.OAEP_SHA256
        )
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
    if spec == "discovery":
        if not decrypting:
            raise click.BadParameter(
                "discovery keyrings cannot encrypt", param_hint="--wrapping-keys"
            )
        return sdk.AwsKmsDiscoveryKeyring(_kms_client(region))
    return sdk.AwsKmsKeyring(_kms_client(region), spec.removeprefix("key="))


def _keyring(specs: Sequence[str], region: str | None, decrypting: bool) -> Keyring:
    if not specs:
        raise click.UsageError("at least one --wrapping-keys/-w is required")
    rings = [_keyring_for(s, region, decrypting) for s in specs]
    return (
        rings[0]
        if len(rings) == 1
        else sdk.MultiKeyring(
            generator=None if decrypting else rings[0], children=rings if decrypting else rings[1:]
        )
    )


def _pairs(
    input_path: str, output: str | None, suffix: str, recursive: bool
) -> Iterator[tuple[str, str]]:
    """(source, destination) pairs; '-' means stdin/stdout."""
    if input_path == "-":
        yield "-", output or "-"
        return
    src = Path(input_path)
    if src.is_dir():
        if not recursive:
            raise click.UsageError(f"{src} is a directory: use --recursive")
        if output is None or not Path(output).is_dir():
            raise click.UsageError("a directory input needs an existing directory --output")
        for path in sorted(p for p in src.rglob("*") if p.is_file()):
            dest = Path(output) / path.relative_to(src)
            dest.parent.mkdir(parents=True, exist_ok=True)
            yield str(path), str(dest) + suffix
        return
    if output is None or output == "-":
        yield str(src), output or "-"
    elif Path(output).is_dir():
        yield str(src), str(Path(output) / (src.name + suffix))
    else:
        yield str(src), output


def _header_json(header: Header) -> dict[str, Any]:
    return {
        "algorithm": header.suite.name,
        "algorithm_id": f"0x{header.suite.value:04x}",
        "message_id": base64.b64encode(header.message_id).decode(),
        "encryption_context": dict(header.encryption_context),
        "frame_length": header.frame_length,
        "encrypted_data_keys": [
            {
                "provider_id": e.provider_id,
                "provider_info": e.provider_info.decode("utf-8", "replace"),
            }
            for e in header.encrypted_data_keys
        ],
    }


class _B64Writer(io.RawIOBase):
    """Base64-encodes everything written through it, 3 bytes at a time."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw, self._pending = raw, b""

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = self._pending + bytes(b)
        cut = len(data) - len(data) % 3
        self._raw.write(base64.b64encode(data[:cut]))
        self._pending = data[cut:]
        return len(b)

    def finish(self) -> None:
        self._raw.write(base64.b64encode(self._pending))


def _run_one(mode: str, src: str, dest: str, opts: dict[str, Any], meta: IO[str] | None) -> None:
    if dest != "-" and opts["no_overwrite"] and Path(dest).exists():
        raise click.ClickException(f"{dest} exists and --no-overwrite was given")
    source: IO[bytes] = sys.stdin.buffer if src == "-" else open(src, "rb")  # noqa: SIM115
    try:
        if mode == "decrypt" and opts["decode"]:
            source = io.BytesIO(base64.b64decode(source.read(), validate=False))
        size = os.fstat(source.fileno()).st_size if src != "-" and not opts["decode"] else 0
        if mode == "encrypt":
            stream: Any = sdk.encrypt_stream(
                source,
                keyring=opts["keyring"],
                materials_manager=opts["cmm"],
                encryption_context=opts["context"],
                algorithm_suite=opts["suite"],
                frame_length=opts["frame_length"],
                commitment_policy=opts["policy"],
                max_encrypted_data_keys=opts["max_edks"],
                plaintext_length=size or None,
            )
        else:
            stream = sdk.decrypt_stream(
                source,
                keyring=opts["keyring"],
                materials_manager=opts["cmm"],
                commitment_policy=opts["policy"],
                max_encrypted_data_keys=opts["max_edks"],
                encryption_context=opts["context"] or None,
                unsigned_only=opts["unsigned_only"],
                # Files: plaintext goes to a temporary file that is renamed only after the
                # signature verified, so bounded memory costs no safety. Stdout: hold it.
                release_unverified=dest != "-",
            )
        _write(stream, dest, mode == "encrypt" and opts["encode"], size)
        if meta is not None:
            meta.write(
                json.dumps(
                    {
                        "mode": mode,
                        "input": src,
                        "output": dest,
                        "header": _header_json(stream.header),
                    }
                )
                + "\n"
            )
    finally:
        if source is not sys.stdin.buffer:
            source.close()


def _write(stream: Any, dest: str, encode: bool, size: int) -> None:
    progress = size >= _PROGRESS_THRESHOLD and sys.stderr.isatty()
    if dest == "-":
        out: IO[bytes] = sys.stdout.buffer
        _copy(stream, out, encode, size if progress else 0)
        out.flush()
        return
    directory = os.path.dirname(os.path.abspath(dest))
    fd, tmp = tempfile.mkstemp(prefix=".strongroom-", suffix=".partial", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            _copy(stream, out, encode, size if progress else 0)
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def _copy(stream: Any, out: IO[bytes], encode: bool, progress_total: int) -> None:
    sink: Any = _B64Writer(out) if encode else out
    if progress_total:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("working", total=progress_total)
            for chunk in stream:
                sink.write(chunk)
                bar.advance(task, len(chunk))
    else:
        for chunk in stream:
            sink.write(chunk)
    if encode:
        sink.finish()


def _common(func: Any) -> Any:
    options = [
        click.option(
            "-i",
            "--input",
            "input_path",
            required=True,
            help="File, directory (with --recursive) or '-'.",
        ),
        click.option(
            "-o", "--output", default=None, help="File, directory or '-' (default: stdout)."
        ),
        click.option(
            "-w",
            "--wrapping-keys",
            "wrapping_keys",
            multiple=True,
            help="KMS key id/ARN/alias, 'discovery', raw-aes:NS:NAME:KEYFILE or raw-rsa:NS:NAME:PEMFILE[:PADDING]. Repeatable.",
        ),
        click.option(
            "-c",
            "--encryption-context",
            "context",
            multiple=True,
            help="KEY=VALUE; repeatable. Enforced on decrypt.",
        ),
        click.option(
            "--commitment-policy",
            type=click.Choice(_POLICIES),
            default="require-encrypt-require-decrypt",
        ),
        click.option(
            "--max-encrypted-data-keys", "max_edks", type=click.IntRange(min=1), default=None
        ),
        click.option(
            "--caching",
            type=float,
            default=None,
            metavar="MAX_AGE",
            help="Cache data keys for MAX_AGE seconds.",
        ),
        click.option("--region", default=None, help="KMS region (default: the AWS configuration)."),
        click.option("-r", "--recursive", is_flag=True),
        click.option("--suffix", default=None, help="Suffix for outputs written into a directory."),
        click.option("--no-overwrite", is_flag=True),
        click.option(
            "--metadata-output",
            default=None,
            help="Append JSON lines describing each message ('-' = stderr).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _execute(mode: str, kw: dict[str, Any]) -> None:
    decrypting = mode == "decrypt"
    keyring = _keyring(kw["wrapping_keys"], kw["region"], decrypting)
    cmm = None
    if kw["caching"]:
        cmm = sdk.CachingMaterialsManager(
            sdk.DefaultMaterialsManager(keyring), sdk.LocalMaterialsCache(), max_age=kw["caching"]
        )
    opts = {
        "keyring": None if cmm else keyring,
        "cmm": cmm,
        "context": _context(kw["context"]),
        "policy": CommitmentPolicy(kw["commitment_policy"]),
        "max_edks": kw["max_edks"],
        "no_overwrite": kw["no_overwrite"],
        "suite": kw.get("suite"),
        "frame_length": kw.get("frame_length", 4096),
        "encode": kw.get("encode", False),
        "decode": kw.get("decode", False),
        "unsigned_only": kw.get("unsigned_only", False),
    }
    suffix = (
        kw["suffix"] if kw["suffix"] is not None else (".decrypted" if decrypting else ".encrypted")
    )
    meta: IO[str] | None = None
    if kw["metadata_output"]:
        meta = sys.stderr if kw["metadata_output"] == "-" else open(kw["metadata_output"], "a")  # noqa: SIM115
    try:
        for src, dest in _pairs(kw["input_path"], kw["output"], suffix, kw["recursive"]):
            _run_one(mode, src, dest, opts, meta)
    except sdk.SDKError as exc:
        raise click.ClickException(f"{mode} failed: {type(exc).__name__}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{mode} failed: {exc}") from None
    finally:
        if meta is not None and meta is not sys.stderr:
            meta.close()


@click.command()
@_common
@click.option(
    "--algorithm",
    "suite",
    default=None,
    help="Suite name (AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384) or hex id.",
)
@click.option(
    "--frame-length", type=click.IntRange(0, 2**32 - 1), default=4096, help="0 = non-framed."
)
@click.option("--encode", is_flag=True, help="Base64-encode the output.")
def encrypt(**kw: Any) -> None:
    """Encrypt files into AWS Encryption SDK messages."""
    if kw["suite"] is not None:
        try:
            kw["suite"] = AlgorithmSuite.parse(kw["suite"])
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--algorithm") from None
    _execute("encrypt", kw)


@click.command()
@_common
@click.option("--decode", is_flag=True, help="The input is base64.")
@click.option("--decrypt-unsigned", "unsigned_only", is_flag=True, help="Refuse signed messages.")
def decrypt(**kw: Any) -> None:
    """Decrypt AWS Encryption SDK messages (from this tool or any ESDK)."""
    _execute("decrypt", kw)
