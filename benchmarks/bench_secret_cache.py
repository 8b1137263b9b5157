#!/usr/bin/env python
"""SecretCache's hit path: strongroom.client.SecretCache against AWS's own
caching client (``aws-secretsmanager-caching``), both reading the same secret
from the same Strongroom server, plus the GetSecretValue call a hit saves.

    .venv/bin/python benchmarks/bench_secret_cache.py            # 200,000 hits each, best of 5
    .venv/bin/python benchmarks/bench_secret_cache.py -n 50000 --repeat 3

Each cache is filled by one real GetSecretValue (boto3, over HTTP, audited
server), then read ``-n`` times; the figures are the best round's time per
read, so the machine's load shows as little as it can. The call a hit saves
is timed the same way (boto3 ``get_secret_value``, one connection, one thread).
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import click
from aws_secretsmanager_caching import SecretCache as AwsSecretCache
from aws_secretsmanager_caching import SecretCacheConfig as AwsSecretCacheConfig
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_servers import start_strongroom

from strongroom.client import SecretCache, SecretCacheConfig

_SECRET = "strongroom-bench/cached-secret"
_VALUE = '{"user":"bench","password":"not-a-real-one"}'


def _best_ns(read: Callable[[], object], count: int, repeat: int) -> float:
    """Nanoseconds per call, the best of ``repeat`` rounds of ``count`` calls."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter_ns()
        for _ in range(count):
            read()
        best = min(best, (time.perf_counter_ns() - start) / count)
    return best


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-n", "--reads", "count", type=click.IntRange(1000), default=200_000, show_default=True
)
@click.option("--repeat", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option(
    "--calls",
    type=click.IntRange(10),
    default=300,
    show_default=True,
    help="GetSecretValue calls timed for the miss (one round trip each).",
)
def main(count: int, repeat: int, calls: int) -> None:
    """Time a cache hit in both caching clients, and the call it saves."""
    with tempfile.TemporaryDirectory(prefix="strongroom-bench-cache-") as tmp:
        server = start_strongroom(Path(tmp), "uvicorn", 1)
        try:
            client = server.endpoint.client("secretsmanager")
            client.create_secret(Name=_SECRET, SecretString=_VALUE)
            ours = SecretCache(SecretCacheConfig(secret_refresh_interval=3600), client)
            theirs = AwsSecretCache(AwsSecretCacheConfig(secret_refresh_interval=3600), client)
            for cache in (ours, theirs):
                if cache.get_secret_string(_SECRET) != _VALUE:
                    raise click.ClickException("a cache returned another value")
            ours_ns = _best_ns(lambda: ours.get_secret_string(_SECRET), count, repeat)
            theirs_ns = _best_ns(lambda: theirs.get_secret_string(_SECRET), count, repeat)
            call_ns = _best_ns(lambda: client.get_secret_value(SecretId=_SECRET), calls, repeat)
        finally:
            server.stop()
    table = Table(title=f"SecretCache hit path, best of {repeat} rounds")
    table.add_column("read")
    table.add_column("per read", justify="right")
    table.add_column("vs AWS's cache", justify="right")
    table.add_row(
        "strongroom.client.SecretCache hit", f"{ours_ns:,.0f} ns", f"{theirs_ns / ours_ns:.1f}x"
    )
    table.add_row("aws_secretsmanager_caching.SecretCache hit", f"{theirs_ns:,.0f} ns", "1.0x")
    table.add_row(
        "GetSecretValue over HTTP (boto3; what a hit saves)", f"{call_ns / 1000:,.0f} µs", ""
    )
    console = Console()
    console.print(table)
    console.print(
        f"a hit of strongroom's cache costs 1/{call_ns / ours_ns:,.0f} of the call; "
        f"AWS's cache's hit costs {theirs_ns / ours_ns:.1f} times strongroom's"
    )


if __name__ == "__main__":
    main()
