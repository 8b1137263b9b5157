#!/usr/bin/env python
"""Instructions per request of a whole running server: HTTP included.

    .venv/bin/python benchmarks/bench_server_instructions.py                 # GetCallerIdentity, audit off
    .venv/bin/python benchmarks/bench_server_instructions.py --call kms:Encrypt --audit

bench_instructions.py counts the pipeline in-process; this counts everything a
one-worker ``strongroom server`` executes while wrk drives it: uvicorn's
protocol, the ASGI layer, the event loop and the pipeline (and, with
``--audit``, the audit indexer process, reported on its own line). The server
runs under callgrind (``--trace-children=yes``); counters are zeroed after a
warm-up and dumped after the measured wrk run. Under valgrind the server
answers a few hundred requests a second, so fewer requests share a loop turn
than at full speed: per-request figures lean high, the more so for what is
paid per batch. The audit indexer process is the extreme case: it moves the
spool ten times a second whatever the load, so at valgrind's request rate its
fixed cost per move dominates (~600k instructions per request measured, where
bench_instructions.py counts ~56k per event at full speed); read its line as
an upper bound. Needs valgrind and wrk; a run takes a few minutes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_servers
from bench_calls import CALLS
from bench_measure import prepare_job
from bench_wrk import LoadShape, run_wrk


def _totals(out_dir: Path) -> dict[str, int]:
    """Instructions per process in the dumps written on request (``name.pid.N``)."""
    found: dict[str, int] = {}
    for dump in sorted(out_dir.glob("cg.*.*")):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith(("summary:", "totals:")):
                found[dump.name] = int(line.split()[1])
                break
    return found


def _under_callgrind(out_dir: Path) -> Any:
    """bench_servers.ManagedProcess, with its command run under callgrind."""

    class Traced(bench_servers.ManagedProcess):
        def __init__(self, label: str, argv: list[str], log: Path, env: Any = None) -> None:
            wrapped = [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={out_dir / 'cg.%p'}",
                "--trace-children=yes",
                *argv,
            ]
            super().__init__(label, wrapped, log, env)

    return Traced


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--call", "call_name", default="sts:GetCallerIdentity", show_default=True)
@click.option("--audit/--no-audit", default=False, show_default=True)
@click.option("-d", "--duration", type=click.IntRange(5, 600), default=20, show_default=True)
@click.option("-c", "--connections", type=click.IntRange(1, 64), default=8, show_default=True)
def main(call_name: str, audit: bool, duration: int, connections: int) -> None:
    """Count the instructions a one-worker server spends per request."""
    if call_name not in CALLS:
        raise click.BadParameter(f"one of {', '.join(CALLS)}", param_hint="--call")
    with tempfile.TemporaryDirectory(prefix="strongroom-server-callgrind-") as tmp:
        work = Path(tmp)
        original_process, original_wait = bench_servers.ManagedProcess, bench_servers.wait_http
        bench_servers.ManagedProcess = _under_callgrind(work)  # type: ignore[misc]
        # Starting under valgrind takes minutes, not seconds.
        bench_servers.wait_http = lambda *a, **k: original_wait(*a, **{**k, "timeout": 900})  # type: ignore[assignment]
        try:
            server = bench_servers.start_strongroom(work, "uvicorn", 1, audit=audit)
        finally:
            bench_servers.ManagedProcess = original_process  # type: ignore[misc]
            bench_servers.wait_http = original_wait  # type: ignore[assignment]
        try:
            job = prepare_job(server, CALLS[call_name], work)
            shape = LoadShape(1, connections, duration)
            run_wrk(job.fresh_request(), shape, job.script, seconds=5)  # warm-up
            subprocess.run(["callgrind_control", "-z"], capture_output=True, check=False)
            result, _ = run_wrk(job.fresh_request(), shape, job.script)
            subprocess.run(["callgrind_control", "-d"], capture_output=True, check=False)
            time.sleep(2)  # the dumps are written asynchronously
            totals = _totals(work)
        finally:
            server.stop()
    if not totals or not result.requests:
        raise click.ClickException("no callgrind dump was written")
    click.echo(f"{call_name}: {result.requests:,} requests, audit {'on' if audit else 'off'}")
    for name, total in totals.items():
        pid = re.sub(r"^cg\.(\d+)\..*$", r"\1", name)
        click.echo(f"  process {pid}: {total / result.requests:>12,.0f} instructions per request")
    click.echo(f"  all: {sum(totals.values()) / result.requests:>12,.0f} instructions per request")


if __name__ == "__main__":
    main()
