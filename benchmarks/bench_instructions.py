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
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parent))

_PHASES = ("audited", "spool move", "indexing", "audit off")
# Collection is switched on only inside functools.reduce, which nothing on
# the measured paths calls: each phase runs as the one step of a reduce.
_TOGGLE = "functools_reduce"


def _counted(step: object) -> None:
    functools.reduce(lambda _a, _b: step(), [0, 1])  # type: ignore[operator]


def _inner(call_name: str, count: int, report: Path) -> None:
    """Runs under valgrind: the four phases, and how many each covered."""
    from bench_profile import _driver, in_process

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
    report.write_text(json.dumps([count, moved[0], indexed[0], count]))
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
@click.option("--inner", type=click.Path(path_type=Path), hidden=True, default=None)
def main(call_name: str, count: int, inner: Path | None) -> None:
    """Count instructions per request (and per audit event) for one call."""
    if inner is not None:
        _inner(call_name, count, inner)
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
        ]
        done = subprocess.run(argv, capture_output=True, text=True, env=dict(os.environ))
        if done.returncode != 0 or not report.exists():
            raise click.ClickException(f"valgrind run failed:\n{done.stderr[-3000:]}")
        divisors = json.loads(report.read_text())
        totals = _totals(out_dir)
    if len(totals) != len(_PHASES):
        raise click.ClickException(f"expected {len(_PHASES)} callgrind dumps, got {len(totals)}")
    per = {
        phase: total / max(1, n) for phase, total, n in zip(_PHASES, totals, divisors, strict=True)
    }
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


if __name__ == "__main__":
    main()
