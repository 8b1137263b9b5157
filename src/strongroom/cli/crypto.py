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
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from strongroom import sdk
from strongroom.cli.crypto_keys import build_cmm, build_keyring, key_options, parse_context
from strongroom.cli.crypto_values import format_option, looks_like_document, run_values
from strongroom.sdk import AlgorithmSuite, CommitmentPolicy, Header

_PROGRESS_THRESHOLD = 8 * 1024 * 1024


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
        "encrypted_data_keys": [sdk.describe_edk(e) for e in header.encrypted_data_keys],
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
            record: dict[str, Any] = {"mode": mode, "input": src, "output": dest}
            record["header"] = _header_json(stream.header)
            if mode == "decrypt" and stream.decrypted_data_key is not None:
                # which of the message's wrapped keys actually opened it
                record["decrypted_data_key"] = sdk.describe_edk(stream.decrypted_data_key)
            meta.write(json.dumps(record) + "\n")
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
        click.argument("input_arg", required=False, metavar="[INPUT]"),
        click.option(
            "-i",
            "--input",
            "input_path",
            default=None,
            help="File, directory (with --recursive) or '-' (or give INPUT as an argument).",
        ),
        click.option(
            "-o", "--output", default=None, help="File, directory or '-' (default: stdout)."
        ),
        key_options,
        click.option("-r", "--recursive", is_flag=True),
        click.option("--suffix", default=None, help="Suffix for outputs written into a directory."),
        click.option("--no-overwrite", is_flag=True),
        click.option(
            "--metadata-output",
            default=None,
            help="Append JSON lines describing each message ('-' = stderr).",
        ),
        click.option(
            "--values-only",
            is_flag=True,
            help="Structured file (YAML, JSON, .env): encrypt each value, keep keys readable.",
        ),
        format_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _input(kw: dict[str, Any]) -> str:
    given: list[str] = [v for v in (kw.pop("input_arg"), kw["input_path"]) if v is not None]
    if len(given) != 1:
        raise click.UsageError("give the input once: as INPUT or with -i/--input")
    kw["input_path"] = given[0]
    return given[0]


def _execute(mode: str, kw: dict[str, Any]) -> None:
    decrypting = mode == "decrypt"
    src = _input(kw)
    values_only = kw["values_only"] or (
        decrypting and not kw.get("decode") and looks_like_document(src)
    )
    meta: IO[str] | None = None
    if kw["metadata_output"]:
        meta = sys.stderr if kw["metadata_output"] == "-" else open(kw["metadata_output"], "a")  # noqa: SIM115
    try:
        if values_only:
            run_values(mode, kw, _header_json, meta)
            return
        keyring = build_keyring(kw, decrypting)
        cmm = build_cmm(keyring, kw["caching"])
        opts = {
            "keyring": None if cmm else keyring,
            "cmm": cmm,
            "context": parse_context(kw["context"]),
            "policy": CommitmentPolicy(kw["commitment_policy"]),
            "max_edks": kw["max_edks"],
            "no_overwrite": kw["no_overwrite"],
            "suite": kw.get("suite"),
            "frame_length": kw.get("frame_length", 4096),
            "encode": kw.get("encode", False),
            "decode": kw.get("decode", False),
            "unsigned_only": kw.get("unsigned_only", False),
        }
        suffix = kw["suffix"]
        if suffix is None:
            suffix = ".decrypted" if decrypting else ".encrypted"
        for src_path, dest in _pairs(src, kw["output"], suffix, kw["recursive"]):
            _run_one(mode, src_path, dest, opts, meta)
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
    """Encrypt files into AWS Encryption SDK messages (or, with --values-only, the values
    of a YAML/JSON/.env file)."""
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
    """Decrypt AWS Encryption SDK messages (from this tool or any ESDK), or values-only
    documents (detected automatically)."""
    _execute("decrypt", kw)
