"""One (target, call) pair: set it up, check it succeeds, measure it, summarise it.

The runner interleaves the measured runs of all pairs (round 1 of every pair,
then round 2, ...) and reports each pair's median run: this machine is shared
(other jobs come and go), and interleaving spreads a burst of outside load
over every target instead of letting it sink one of them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench_calls import Call, SignedRequest, setup, signed
from bench_cpu import group_cpu_seconds
from bench_report import Row
from bench_servers import RunningServer
from bench_wrk import LoadShape, VerificationError, WrkResult, run_wrk, verify


class Failure(Exception):
    """Abort the run with this message (servers are stopped on the way out)."""


@dataclass
class Job:
    server: RunningServer
    call: Call
    values: dict[str, str]
    script: Path
    runs: list[WrkResult] = field(default_factory=list)
    # The server tree's CPU per request of each run, in µs (None: unknown).
    cpu_us: list[float | None] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{self.call.name:32} {self.server.endpoint.name:24}"

    def fresh_request(self) -> SignedRequest:
        """Sign anew and check the request succeeds before it is replayed under load."""
        request = signed(self.call, self.server.endpoint, self.values)
        try:
            verify(request, self.call.expect)
        except (VerificationError, OSError) as exc:
            raise Failure(
                f"{self.server.endpoint.name}: {self.call.name} does not succeed, "
                f"refusing to benchmark it:\n{exc}"
            ) from exc
        return request

    def row(self) -> Row:
        # The median run by throughput: one noisy run should not decide.
        median = sorted(self.runs, key=lambda r: r.rps)[len(self.runs) // 2]
        known = sorted(c for c in self.cpu_us if c is not None)
        return Row(
            self.call.name,
            self.server.endpoint.name,
            self.server.description,
            median,
            tuple(r.rps for r in self.runs),
            known[len(known) // 2] if known else None,
            tuple(self.cpu_us),
        )


def prepare_job(server: RunningServer, call: Call, workdir: Path) -> Job:
    try:
        values = setup(call, server.endpoint)
    except Exception as exc:
        raise Failure(f"{server.endpoint.name}: setup for {call.name} failed: {exc}") from exc
    script = workdir / f"{server.endpoint.name}-{call.name.replace(':', '-')}.lua"
    job = Job(server, call, values, script)
    job.fresh_request()
    return job


def warm_up(job: Job, shape: LoadShape, seconds: int) -> None:
    if seconds:
        run_wrk(job.fresh_request(), shape, job.script, seconds=seconds)


def measure(
    job: Job, shape: LoadShape, attempt: int, workdir: Path, profile_dir: Path | None
) -> WrkResult:
    request = job.fresh_request()
    group = job.server.process.pid  # its own session: the group is its tree
    with profiling(job.server, profile_dir, job.call.name, shape.seconds):
        cpu_before = group_cpu_seconds(group)
        result, raw = run_wrk(request, shape, job.script)
        cpu_after = group_cpu_seconds(group)
    (workdir / f"{job.script.stem}.{attempt}.wrk.txt").write_text(raw)
    job.runs.append(result)
    spent = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    job.cpu_us.append(
        spent / result.requests * 1e6 if spent is not None and result.requests else None
    )
    return result


@contextmanager
def profiling(
    server: RunningServer, out_dir: Path | None, call: str, seconds: int
) -> Iterator[None]:
    """Optionally sample the server (and its workers) with py-spy while wrk runs."""
    if out_dir is None or server.endpoint.name == "moto":
        yield
        return
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise Failure("--profile needs py-spy (profiling only: .venv/bin/pip install py-spy)")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{server.endpoint.name}-{call.replace(':', '-')}.txt"
    argv = [py_spy, "record", "--pid", str(server.process.pid), "--subprocesses", "--threads"]
    argv += ["--rate", "250", "--duration", str(seconds), "--format", "raw"]
    argv += ["--output", str(out), "--nonblocking"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        try:
            proc.wait(timeout=seconds + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
