#!/usr/bin/env python
"""Side-by-side benchmark: Strongroom against moto_server, driven by wrk.

    .venv/bin/python benchmarks/run.py             # sts:GetCallerIdentity, uvicorn, 1 worker
    .venv/bin/python benchmarks/run.py --workers 1 --workers 2 --server uvicorn --server granian
    .venv/bin/python benchmarks/run.py --call all --json > results.json

Each target is started on a free loopback port, gets its own setup (a KMS key,
a parameter, a secret, ...), and has one SigV4-signed request per call
replayed by wrk (re-signed before every run, so long runs stay inside the
SigV4 clock-skew window). All targets are up at once but only one is under
load at a time; measured runs are interleaved round by round (see
bench_measure.py) and the median run is reported. Everything started is stopped on exit,
on errors and on Ctrl-C. See docs/benchmarks.md for method and results.
"""

from __future__ import annotations

import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import Any

import click
from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_calls import CALLS
from bench_measure import Failure, Job, measure, prepare_job, warm_up
from bench_report import Row, as_json, print_table
from bench_servers import RunningServer, ServerError, start_moto, start_strongroom
from bench_wrk import INSTALL_HINT, LoadShape, WrkError, wrk_path

log = Console(stderr=True, soft_wrap=True)  # progress on stderr keeps --json output clean


def _sigterm_as_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _start(
    kind: str, workers: int, audit: bool, workdir: Path, granian_args: list[str]
) -> RunningServer:
    detail = "" if kind == "moto" else f" ({workers} worker(s){'' if audit else ', audit off'})"
    log.print(f"[bold]starting {kind}{detail}")
    if kind == "moto":
        return start_moto(workdir)
    return start_strongroom(workdir, kind, workers, granian_args, audit=audit)


def _run(
    plan: list[tuple[str, int, bool]],
    calls: list[str],
    shape: LoadShape,
    warmup: int,
    repeat: int,
    workdir: Path,
    profile_dir: Path | None,
    granian_args: list[str],
) -> list[Row]:
    """Start every target, then measure all (target, call) pairs round by round."""
    with ExitStack() as servers:
        jobs: list[Job] = []
        for kind, workers, audit in plan:
            server = _start(kind, workers, audit, workdir, granian_args)
            servers.callback(server.stop)
            jobs += [prepare_job(server, CALLS[name], workdir) for name in calls]
        log.print(f"all {len(jobs)} request(s) verified (HTTP 200); warming up")
        # Call by call, every target back to back: the runs a ratio pairs are
        # seconds apart, not minutes (the machine's load drifts in between).
        ordered = sorted(jobs, key=lambda job: calls.index(job.call.name))
        # The same pairs with the targets of each call in reverse order: used
        # every other round, so that what a run leaves behind (the audited
        # server's indexer catching up once its load stops) falls on each
        # target in turn rather than always on the one after it.
        reverse = sorted(jobs, key=lambda job: (calls.index(job.call.name), -jobs.index(job)))
        for job in ordered:
            warm_up(job, shape, warmup)
        for attempt in range(repeat):
            for job in ordered if attempt % 2 == 0 else reverse:
                # Profile the first round only: py-spy costs the server some CPU.
                result = measure(job, shape, attempt, workdir, profile_dir if not attempt else None)
                log.print(
                    f"  [{attempt + 1}/{repeat}] {job.label} {result.rps:9,.0f} req/s  "
                    f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
                    + (f"  [red]{result.errors} errors[/]" if result.errors else "")
                )
        return [job.row() for job in jobs]


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--call",
    "calls",
    multiple=True,
    default=["sts:GetCallerIdentity"],
    show_default=True,
    help=f"Call(s) to benchmark, or 'all': {', '.join(CALLS)}.",
)
@click.option(
    "--server",
    "servers",
    multiple=True,
    default=["uvicorn"],
    show_default=True,
    type=click.Choice(["uvicorn", "granian"]),
    help="Server(s) to run Strongroom under.",
)
@click.option(
    "--workers",
    "workers",
    multiple=True,
    type=click.IntRange(1, 16),
    default=[1],
    show_default=True,
    help="Strongroom worker processes (repeat to compare).",
)
@click.option(
    "--granian-args",
    default="",
    help="Extra granian options, e.g. '--runtime-mode st --task-impl rust'.",
)
@click.option("--no-moto", is_flag=True, help="Skip the moto baseline (no ratios).")
@click.option("--no-strongroom", is_flag=True, help="Only benchmark moto.")
@click.option(
    "--audit-off",
    is_flag=True,
    help="Also run every Strongroom target with the audit trail off, interleaved with "
    "the audited one (the cost of auditing, measured in one run).",
)
@click.option(
    "-d",
    "--duration",
    type=click.IntRange(1, 300),
    default=10,
    show_default=True,
    help="Seconds of each measured wrk run.",
)
@click.option(
    "--warmup",
    type=click.IntRange(0, 60),
    default=2,
    show_default=True,
    help="Seconds of unmeasured load first (import caches, connection setup).",
)
@click.option(
    "--repeat",
    type=click.IntRange(1, 9),
    default=1,
    show_default=True,
    help="Measured runs per call and target; the median by req/s is reported.",
)
@click.option("-c", "--connections", type=click.IntRange(1, 1000), default=16, show_default=True)
@click.option(
    "-t", "--threads", type=click.IntRange(1, 16), default=2, show_default=True, help="wrk threads."
)
@click.option("--json", "as_json_output", is_flag=True, help="Print results as JSON on stdout.")
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Keep logs, data dirs, Lua scripts and raw wrk reports in this directory.",
)
@click.option(
    "--profile",
    "profile_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Record py-spy samples of Strongroom during load into this "
    "directory (needs py-spy; profiling only).",
)
def main(
    calls: tuple[str, ...],
    servers: tuple[str, ...],
    workers: tuple[int, ...],
    granian_args: str,
    no_moto: bool,
    no_strongroom: bool,
    duration: int,
    warmup: int,
    repeat: int,
    connections: int,
    threads: int,
    as_json_output: bool,
    keep: Path | None,
    profile_dir: Path | None,
    audit_off: bool,
) -> None:
    """Benchmark Strongroom side by side with moto_server on this machine (loopback only)."""
    if wrk_path() is None:
        log.print(f"[red]error:[/] {INSTALL_HINT}")
        raise SystemExit(2)
    selected = list(CALLS) if "all" in calls else list(dict.fromkeys(calls))
    unknown = [c for c in selected if c not in CALLS]
    if unknown:
        raise click.BadParameter(f"unknown call(s) {unknown}; choose from {list(CALLS)}")
    shape = LoadShape(threads, connections, duration)
    plan: list[tuple[str, int, bool]] = [] if no_moto else [("moto", 1, True)]
    if not no_strongroom:
        audits = [True, False] if audit_off else [True]
        plan += [
            (s, w, a)
            for s in dict.fromkeys(servers)
            for w in dict.fromkeys(workers)
            for a in audits
        ]
    if not plan:
        raise click.UsageError("nothing to run")
    estimate = len(plan) * (len(selected) * ((duration + 1) * repeat + warmup + 1) + 8)
    log.print(
        f"{len(plan)} target(s) x {len(selected)} call(s), wrk {' '.join(shape.args())}; "
        f"about {estimate // 60} min {estimate % 60} s"
    )

    workdir = Path(tempfile.mkdtemp(prefix="strongroom-bench-"))
    signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    # Explicitly, because a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    failed = True
    try:
        rows = _run(
            plan, selected, shape, warmup, repeat, workdir, profile_dir, shlex.split(granian_args)
        )
        failed = False
    except KeyboardInterrupt:
        log.print("[yellow]interrupted; servers stopped[/]")
        raise SystemExit(130) from None
    except (Failure, ServerError, WrkError) as exc:
        log.print(f"[red]error:[/] {exc}")
        raise SystemExit(1) from None
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copytree(workdir, keep, dirs_exist_ok=True)
        if failed and keep is None:
            log.print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    meta: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "wrk": shape.args(),
        "warmup_s": warmup,
        "repeat": repeat,
    }
    if as_json_output:
        print(as_json(rows, meta))
    else:
        out = Console() if sys.stdout.isatty() else Console(width=120)
        print_table(out, rows, f"wrk {' '.join(shape.args())}, {os.cpu_count()} CPUs")
    if any(row.result.errors for row in rows):
        log.print("[red]error:[/] some requests failed under load; those numbers are not valid")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
