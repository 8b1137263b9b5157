#!/usr/bin/env python
"""Instructions per request, counted by callgrind: a cost that does not move
with the machine's load.

    .venv/bin/python benchmarks/bench_instructions.py                  # sts:GetCallerIdentity
    .venv/bin/python benchmarks/bench_instructions.py --call kms:Encrypt -n 300

Wall-clock figures on the shared 2-core machine drift by tens of percent
within an hour, more than most single changes are worth. callgrind counts
the instructions a piece of code executes, the same for the same code and
input whatever else runs. The in-process pipeline (as bench_profile.py
drives it: 16 requests in flight on one event loop, no HTTP) is measured
in four phases, each counted on its own:

* audited: ``Pipeline.handle_async`` with the audit trail on, per request;
* spool move: ``SqliteAuditLog.ingest`` of the events those requests left
  in the spool, per event;
* indexing: ``index_pending`` of those events, per event;
* audit off: the same requests with the trail off, per request.

With ``--phases`` the audited path is also counted twice more, to split
its cost: with an already-resolved future in place of the writer's (the
record alone, built in the request), and with the writer's sealing and
spool write switched off (the record, built by the writer, and the
hand-off to it: submit, future, flush, wake-up). ``--uvloop`` drives the requests on uvloop, as the server does
(the default loop's futures and callbacks cost a little more).

System calls are counted up to the kernel boundary only, so the time
spent in the kernel (writes, fsyncs) is not in these figures. Needs
valgrind (``apt-get install -y valgrind``); a run takes a minute or two,
most of it the interpreter starting under valgrind.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))

_PHASES = ("audited", "spool move", "indexing", "audit off")
_SPLIT = ("record only", "record and hand-off")
# Collection is switched on only inside functools.reduce, which nothing on
# the measured paths calls: each phase runs as the one step of a reduce.
_TOGGLE = "functools_reduce"


def _counted(step: object) -> None:
    functools.reduce(lambda _a, _b: step(), [0, 1])  # type: ignore[operator]


def _split_phases(platform: Any, drive: Callable[[int], None], count: int) -> None:
    """The two phases of ``--phases`` (see the module's docstring)."""
    import asyncio

    from strongroom.gateway import pipeline as pipeline_module

    writer = platform.audit.async_writer
    if writer is None or not hasattr(writer, "_spool"):
        raise click.ClickException("--phases needs the inline audit writer (a SQLite store)")
    persist = pipeline_module.Pipeline._persist_async

    def record_only(self: Any, call: Any, *, intent: bool) -> Any:
        self._rows(call, intent=intent, seal=False)
        done = asyncio.get_running_loop().create_future()
        done.set_result(True)
        return done

    pipeline_module.Pipeline._persist_async = record_only  # type: ignore[method-assign]
    try:
        _counted(lambda: drive(count))
    finally:
        pipeline_module.Pipeline._persist_async = persist  # type: ignore[method-assign]
    seal, write = writer._sealer.seal_many, writer._spool.write
    writer._sealer.seal_many = lambda items: [body for _, body in items]
    writer._spool.write = lambda rows, at, *, sync: None
    try:
        _counted(lambda: drive(count))
    finally:
        writer._sealer.seal_many, writer._spool.write = seal, write


def _inner(call_name: str, count: int, report: Path, phases: bool, use_uvloop: bool) -> None:
    """Runs under valgrind: the phases, and how many each covered."""
    from bench_profile import _driver, in_process

    if use_uvloop:
        import asyncio

        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    with in_process(call_name, "strongroom-instructions-") as (platform, pipeline, request):
        drive = _driver(pipeline, request, 16)
        drive(300)  # caches, and the first batches
        trail = platform.audit
        if trail is None:
            raise click.ClickException("the audit trail is off (STRONGROOM_AUDIT=0?)")
        audit_log = trail.log
        audit_log.ingest()
        audit_log.catch_up()
        before = audit_log.last_seq()
        _counted(lambda: drive(count))
        moved: list[int] = []
        _counted(lambda: moved.append(audit_log.ingest()))
        events = audit_log.last_seq() - before
        indexed: list[int] = []
        _counted(lambda: indexed.append(audit_log.index_pending(10 * events + 10)))
        platform.audit = None
        _counted(lambda: drive(count))
        platform.audit = trail
        if phases:
            _split_phases(platform, drive, count)
    divisors = [count, moved[0], indexed[0], count] + ([count] * len(_SPLIT) if phases else [])
    report.write_text(json.dumps(divisors))
    if events != moved[0]:
        print(f"note: {events} events for {count} requests", file=sys.stderr)


def _totals(out_dir: Path) -> list[int]:
    """Instructions of each dump, in the order they were written."""
    dumps = sorted(
        (p for p in out_dir.iterdir() if re.fullmatch(r"out\.\d+", p.name)),
        key=lambda p: int(p.name.split(".")[1]),
    )
    totals: list[int] = []
    for dump in dumps:
        for line in dump.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                totals.append(int(line.split()[1]))
                break
    return totals


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--call", "call_name", default="sts:GetCallerIdentity", show_default=True)
@click.option(
    "-n", "--requests", "count", type=click.IntRange(50, 100_000), default=300, show_default=True
)
@click.option("--phases", is_flag=True, help="Also split the audit's request-path cost.")
@click.option("--uvloop", "use_uvloop", is_flag=True, help="Drive requests on uvloop.")
@click.option("--inner", type=click.Path(path_type=Path), hidden=True, default=None)
def main(call_name: str, count: int, phases: bool, use_uvloop: bool, inner: Path | None) -> None:
    """Count instructions per request (and per audit event) for one call."""
    if inner is not None:
        _inner(call_name, count, inner, phases, use_uvloop)
        return
    from bench_calls import CALLS

    if call_name not in CALLS:
        raise click.BadParameter(f"one of {', '.join(CALLS)}", param_hint="--call")
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        raise click.ClickException("valgrind not found: apt-get install -y valgrind")
    with tempfile.TemporaryDirectory(prefix="strongroom-callgrind-") as tmp:
        out_dir = Path(tmp)
        report = out_dir / "counts.json"
        argv = [
            valgrind,
            "--tool=callgrind",
            f"--toggle-collect={_TOGGLE}",
            f"--dump-after={_TOGGLE}",
            f"--callgrind-out-file={out_dir / 'out'}",
            sys.executable,
            __file__,
            "--call",
            call_name,
            "-n",
            str(count),
            "--inner",
            str(report),
            *(["--phases"] if phases else []),
            *(["--uvloop"] if use_uvloop else []),
        ]
        done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ))
        if done.returncode != 0 or not report.exists():
            raise click.ClickException(f"valgrind run failed:\n{done.stderr[-3000:]}")
        divisors = json.loads(report.read_text())
        totals = _totals(out_dir)
    names = _PHASES + (_SPLIT if phases else ())
    if len(totals) != len(names):
        raise click.ClickException(f"expected {len(names)} callgrind dumps, got {len(totals)}")
    per = {name: total / max(1, n) for name, total, n in zip(names, totals, divisors, strict=True)}
    unit = {"spool move": "event", "indexing": "event"}
    for phase in _PHASES:
        print(
            f"{call_name:32} {phase:11} {per[phase]:>10,.0f} instructions per {unit.get(phase, 'request')}"
        )
    extra = per["audited"] - per["audit off"]
    print(
        f"{call_name:32} {'audit':11} {extra:>10,.0f} on the request path, "
        f"{per['spool move'] + per['indexing']:,.0f} per event in the indexer"
    )
    if phases:
        split = {
            "record": per["record only"] - per["audit off"],
            "hand-off": per["record and hand-off"] - per["record only"],
            "seal, spool": per["audited"] - per["record and hand-off"],
        }
        for part, value in split.items():
            print(f"{call_name:32} {part:11} {value:>10,.0f} of the audit on the request path")


if __name__ == "__main__":
    main()
