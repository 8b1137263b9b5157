#!/usr/bin/env python
"""Where does one request's time go? cProfile of ``Pipeline.handle`` in-process.

    .venv/bin/python benchmarks/bench_profile.py                    # sts:GetCallerIdentity
    .venv/bin/python benchmarks/bench_profile.py --call kms:Encrypt -n 20000 --top 40

No HTTP server and no ASGI: a platform is initialised in a temporary data dir,
the same signed request that run.py replays is turned into an HttpRequest and
handed to the pipeline N times, 16 at a time through ``handle_async`` on one
event loop as under uvicorn (``--concurrency 0``: one by one through ``handle``). The first figure printed (requests/s of the
bare pipeline on one core) is the ceiling the gateway can reach with one
worker; the profile then ranks functions by their own time and by the time
spent under them, as a percentage of the whole loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from botocore.awsrequest import AWSResponse

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_calls import CALLS, Endpoint, SignedRequest, prepare
from bench_servers import read_admin_credentials

from strongroom.cli.server import initialise
from strongroom.config import settings_from_env
from strongroom.gateway.pipeline import Pipeline
from strongroom.gateway.request import HttpRequest

_URL = "http://127.0.0.1:8700"


class _Body:
    """The part of a urllib3 response that botocore's AWSResponse reads."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _as_http_request(method: str, url: str, headers: dict[str, str], body: bytes) -> HttpRequest:
    parts = urlsplit(url)
    lowered = {name.lower(): value for name, value in headers.items()}
    lowered.setdefault("host", parts.netloc)
    lowered["content-length"] = str(len(body))  # as the ASGI server would hand it over
    return HttpRequest(method, parts.path or "/", parts.query, lowered, body)


def _in_process(pipeline: Pipeline) -> Any:
    """A botocore before-send hook that answers from the pipeline instead of a socket."""

    def before_send(request: Any, **_: Any) -> AWSResponse:
        headers = {
            k: v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()
        }
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        elif not isinstance(body, bytes):
            body = body.read()
        response = pipeline.handle(_as_http_request(request.method, request.url, headers, body))
        return AWSResponse(
            request.url, response.status, dict(response.headers), _Body(response.body)
        )

    return before_send


def _driver(pipeline: Pipeline, request: HttpRequest, concurrency: int) -> Callable[[int], None]:
    """Run ``n`` requests: sequentially through ``handle``, or as the ASGI server does,
    ``concurrency`` requests in flight through ``handle_async`` on one event loop
    (so the audit writer can group their commits)."""
    if concurrency == 0 or not hasattr(pipeline, "handle_async"):

        def sequential(n: int) -> None:
            for _ in range(n):
                pipeline.handle(request)

        return sequential

    async def worker(quota: int) -> None:
        for _ in range(quota):
            await pipeline.handle_async(request)

    async def all_workers(n: int) -> None:
        share, extra = divmod(n, concurrency)
        quotas = [share + (1 if i < extra else 0) for i in range(concurrency)]
        await asyncio.gather(*(worker(q) for q in quotas if q))

    def concurrent(n: int) -> None:
        asyncio.run(all_workers(n))

    return concurrent


@contextlib.contextmanager
def in_process(call_name: str, prefix: str) -> Iterator[tuple[Any, Pipeline, HttpRequest]]:
    """A platform initialised in a temporary data dir, its pipeline, and the
    signed request of ``call_name`` (set up through the pipeline itself)."""
    from strongroom.bootstrap import open_platform

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        settings = settings_from_env(data_dir=Path(tmp), dev=False, log_level="warning")
        with contextlib.redirect_stdout(sys.stderr):
            initialise(settings)
        platform = open_platform(settings)
        try:
            pipeline = Pipeline(platform)
            key_id, secret = read_admin_credentials(Path(tmp) / "admin-credentials")
            endpoint = Endpoint("in-process", _URL, key_id, secret, _in_process(pipeline))
            yield platform, pipeline, _request(prepare(CALLS[call_name], endpoint))
        finally:
            platform.close()


def _writer_stat(platform: Any, name: str) -> int:
    writer = getattr(getattr(platform, "audit", None), "writer", None)
    return int(getattr(writer, name, 0))


def _request(signed: SignedRequest) -> HttpRequest:
    return _as_http_request(signed.method, signed.url, signed.headers, signed.body)


def _report(stats: pstats.Stats, total: float, top: int) -> str:
    entries = stats.stats  # type: ignore[attr-defined]
    rows: list[tuple[float, float, int, str]] = []
    for (file, line, func), (_, calls, own, cumulative, _) in entries.items():
        where = f"{Path(file).name}:{line}" if line else file
        rows.append((float(own), float(cumulative), int(calls), f"{func} ({where})"))
    out = io.StringIO()
    for title, key in (("own time", 0), ("cumulative time", 1)):
        ranked = sorted(rows, key=lambda r: r[0] if key == 0 else r[1], reverse=True)
        out.write(f"\nTop {top} by {title} (percent of the whole loop):\n")
        out.write(f"{'own %':>7} {'cum %':>7} {'calls':>9}  function\n")
        for own, cumulative, calls, name in ranked[:top]:
            out.write(
                f"{100 * own / total:6.1f}% {100 * cumulative / total:6.1f}% {calls:9d}  {name}\n"
            )
    return out.getvalue()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--call",
    "call_name",
    default="sts:GetCallerIdentity",
    show_default=True,
    type=click.Choice(list(CALLS)),
)
@click.option(
    "-n", "--requests", "count", type=click.IntRange(1, 1_000_000), default=5000, show_default=True
)
@click.option(
    "--concurrency",
    type=click.IntRange(0, 1000),
    default=16,
    show_default=True,
    help="Requests in flight through handle_async (like wrk -c); 0: sequential handle().",
)
@click.option("--top", type=click.IntRange(1, 200), default=30, show_default=True)
@click.option(
    "--dump",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the raw cProfile stats here (for snakeviz and friends).",
)
def main(call_name: str, count: int, concurrency: int, top: int, dump: Path | None) -> None:
    """Profile Pipeline.handle in-process for one call."""
    with in_process(call_name, "strongroom-profile-") as (platform, pipeline, request):
        call = CALLS[call_name]
        first = pipeline.handle(request)
        if first.status != 200 or call.expect not in first.body:
            raise click.ClickException(f"{call_name} answered {first.status}: {first.body[:400]!r}")
        drive = _driver(pipeline, request, concurrency)
        drive(min(count, 500))  # warm caches
        start = time.perf_counter()
        drive(count)
        plain = time.perf_counter() - start
        batches_before = _writer_stat(platform, "batches")
        profiler = cProfile.Profile()
        profiler.enable()
        drive(count)
        profiler.disable()
        batches = _writer_stat(platform, "batches") - batches_before
    mode = f"{concurrency} concurrent handle_async" if concurrency else "sequential handle"
    print(
        f"{call_name} ({mode}): {count} requests in {plain:.3f}s without the profiler: "
        f"{1e6 * plain / count:.1f} µs/request, {count / plain:,.0f} requests/s on one core "
        "(pipeline only: no HTTP parsing, no ASGI server)"
    )
    if batches > 0:
        print(
            f"audit group commits during the profiled loop: {batches} "
            f"({count / batches:.1f} requests per commit). The writer thread is not in this "
            "profile (cProfile sees the calling thread only; run.py --profile sees all)."
        )
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    if dump is not None:
        stats.dump_stats(dump)
    print(_report(stats, total, top))


if __name__ == "__main__":
    main()
