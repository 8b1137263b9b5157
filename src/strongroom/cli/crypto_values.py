"""Values-only mode of ``strongroom encrypt`` / ``decrypt`` and ``strongroom exec``.

``encrypt --values-only config.yaml`` replaces every leaf value of a YAML, JSON or .env
file with an ``ENC[esdk,...]`` marker (see ``strongroom.sdk.documents``); ``decrypt``
restores the file after checking every value and the document MAC. ``exec`` decrypts a
flat document into the environment of a child process and exits with its exit code.
No secret value is ever printed: errors name paths and line numbers only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import click

from strongroom import sdk
from strongroom.cli.crypto_keys import build_cmm, build_keyring, key_options, parse_context
from strongroom.sdk import documents
from strongroom.sdk.documents.formats import FORMATS

EXIT_NOT_FOUND, EXIT_NOT_EXECUTABLE = 127, 126  # the shell's conventions
_SNIFF_LIMIT = 16 * 1024 * 1024  # auto-detection reads at most this much of a text input


def format_option(func: Any) -> Any:
    return click.option(
        "--format",
        "doc_format",
        type=click.Choice(FORMATS),
        default=None,
        help="Values-only document format (default: from the file extension).",
    )(func)


def _read_text(src: str) -> str:
    data = sys.stdin.buffer.read() if src == "-" else Path(src).read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise sdk.DocumentFormatError("the document is not UTF-8 text") from None


def _write_text(dest: str, text: str, no_overwrite: bool) -> None:
    """Atomic: a temporary file (mode 0600) renamed over the target only when complete."""
    if dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    if no_overwrite and Path(dest).exists():
        raise click.ClickException(f"{dest} exists and --no-overwrite was given")
    fd, tmp = tempfile.mkstemp(
        prefix=".strongroom-", suffix=".partial", dir=os.path.dirname(os.path.abspath(dest))
    )
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, dest)
    except BaseException:
        os.unlink(tmp)
        raise


def looks_like_document(src: str) -> bool:
    """True for a text file holding values-only metadata (ESDK messages start 0x01/0x02)."""
    if src == "-" or not Path(src).is_file():
        return False
    with open(src, "rb") as f:
        head = f.read(1)
        if head in (b"\x01", b"\x02", b""):
            return False
        return documents.META_KEY.encode() in f.read(_SNIFF_LIMIT)


def run_values(mode: str, kw: dict[str, Any], header_json: Any, meta: IO[str] | None) -> None:
    """Encrypt or decrypt one structured file (``-i``) to ``-o`` (default stdout)."""
    src: str = kw["input_path"]
    if kw.get("recursive"):
        raise click.UsageError("--values-only works on one file at a time, not --recursive")
    fmt = documents.detect_format("" if src == "-" else src, kw.get("doc_format"))
    dest = kw.get("output") or "-"
    if dest != "-" and Path(dest).is_dir():
        dest = str(Path(dest) / Path(src).name)  # keep the name: the extension is the format
    decrypting = mode == "decrypt"
    keyring = build_keyring(kw, decrypting)
    cmm = build_cmm(keyring, kw.get("caching"))
    keys: dict[str, Any] = {"keyring": None if cmm else keyring, "materials_manager": cmm}
    policy = sdk.CommitmentPolicy(kw["commitment_policy"])
    context = parse_context(kw["context"])
    doc = documents.load(_read_text(src), fmt)
    record: dict[str, Any] = {"mode": mode, "input": src, "output": dest, "values_only": True}
    if decrypting:
        result = documents.decrypt_document(
            doc.tree,
            **keys,
            encryption_context=context or None,
            commitment_policy=policy,
            max_encrypted_data_keys=kw["max_edks"],
        )
        text = documents.dump(doc, result.tree)
        record["header"] = header_json(result.data_key_header)
        if result.decrypted_data_key is not None:
            record["decrypted_data_key"] = sdk.describe_edk(result.decrypted_data_key)
    else:
        tree = documents.encrypt_document(
            doc.tree,
            **keys,
            encryption_context=context,
            algorithm_suite=kw.get("suite"),
            commitment_policy=policy,
        )
        text = documents.dump(doc, tree)
        record["values"] = tree[documents.META_KEY]["values"]
    _write_text(dest, text, kw["no_overwrite"])
    if meta is not None:
        meta.write(json.dumps({**record, "format": fmt}) + "\n")


def _environment(doc: documents.Document, tree: dict[str, Any]) -> dict[str, str]:
    env: dict[str, str] = {}
    for key, value in tree.items():
        where = "/" + key
        if not key or "=" in key or "\0" in key:
            raise sdk.DocumentFormatError(f"{where}: not a valid environment variable name")
        if isinstance(value, dict | list):
            raise sdk.DocumentFormatError(f"{where}: exec needs a flat document of scalar values")
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif value is None:
            text = ""
        elif doc.format == "env":
            text = documents.env_value(str(value))
        else:
            text = str(value)
        if "\0" in text:
            raise sdk.DocumentFormatError(f"{where}: value contains a NUL byte")
        env[key] = text
    return env


def _run_child(command: Sequence[str], env: dict[str, str]) -> int:
    try:
        child = subprocess.Popen(list(command), env=env)
    except FileNotFoundError:
        click.echo(f"strongroom exec: command not found: {command[0]}", err=True)
        return EXIT_NOT_FOUND
    except PermissionError:
        click.echo(f"strongroom exec: permission denied: {command[0]}", err=True)
        return EXIT_NOT_EXECUTABLE
    while True:
        try:
            code = child.wait()
            break
        except (
            KeyboardInterrupt
        ):  # the child got the same SIGINT: let it decide, then exit as it did
            continue
    return code if code >= 0 else 128 - code  # killed by signal N -> 128 + N, as shells report


@click.command("exec", context_settings={"ignore_unknown_options": False})
@click.option("-i", "--input", "input_path", required=True, help="Values-only document.")
@format_option
@key_options
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def exec_command(ctx: click.Context, /, command: tuple[str, ...], **kw: Any) -> None:
    """Decrypt a values-only document into the environment of COMMAND and run it.

    strongroom exec -i secrets.env -w KEY -- ./server --port 8080

    The document must be flat (.env, or JSON/YAML whose values are all scalars); its
    values are added to the current environment. Exits with COMMAND's exit code.
    """
    src: str = kw["input_path"]
    try:
        fmt = documents.detect_format("" if src == "-" else src, kw["doc_format"])
        doc = documents.load(_read_text(src), fmt)
        keyring = build_keyring(kw, decrypting=True)
        cmm = build_cmm(keyring, kw["caching"])
        context = parse_context(kw["context"])
        result = documents.decrypt_document(
            doc.tree,
            keyring=None if cmm else keyring,
            materials_manager=cmm,
            encryption_context=context or None,
            commitment_policy=sdk.CommitmentPolicy(kw["commitment_policy"]),
            max_encrypted_data_keys=kw["max_edks"],
        )
        env = {**os.environ, **_environment(doc, result.tree)}
    except sdk.SDKError as exc:
        raise click.ClickException(f"exec failed: {type(exc).__name__}: {exc}") from None
    except OSError as exc:
        raise click.ClickException(f"exec failed: {exc}") from None
    ctx.exit(_run_child(command, env))
