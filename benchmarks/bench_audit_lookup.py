#!/usr/bin/env python
"""LookupEvents over a million stored events: how long does a lookup take?

    .venv/bin/python benchmarks/bench_audit_lookup.py                  # SQLite, 1M events
    .venv/bin/python benchmarks/bench_audit_lookup.py --events 200000
    .venv/bin/python benchmarks/bench_audit_lookup.py --store postgresql://postgres@127.0.0.1:5432/test

Fills the audit tables directly through the AuditLog (the same appends the
writer process makes, in batches of 2,000), builds the lookup index, then
times the lookups LookupEvents makes: the newest page of an account, by
each lookup attribute (rare and common values), a time window, and the
tenth page of a paged walk. Events are spread over 20 accounts, 3 regions,
500 users and 40 operation names, over 30 days. Bodies are ~700 bytes, as
real records are. Reports insert and index throughput and per-lookup
latency (median and worst of 20 runs).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from strongroom.audit.backends import open_audit_log
from strongroom.audit.log import AuditLog, AuditRow, LookupQuery, RowKind
from strongroom.storage.factory import open_store

ACCOUNTS = [f"{100000000000 + i}" for i in range(20)]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
NAMES = [f"Operation{i:02d}" for i in range(39)] + ["RareOperation"]
START_US = 1_714_564_800_000_000
SPAN_US = 30 * 86_400 * 1_000_000


def make_rows(n: int, rng: random.Random, done: int, total: int) -> list[AuditRow]:
    """Events arrive in time order (with a little jitter), as they do."""
    rows = []
    for i in range(n):
        at = START_US + (done + i) * SPAN_US // total + rng.randrange(2_000_000)
        name = NAMES[min(int(rng.expovariate(0.15)), len(NAMES) - 2)]
        if rng.random() < 0.0005:
            name = "RareOperation"
        user = f"user{int(rng.paretovariate(1.2)) % 500}"
        body = os.urandom(350).hex().encode()  # ~700 bytes, like a sealed record
        rows.append(
            AuditRow(
                RowKind.EVENT,
                str(uuid.uuid4()),
                rng.choice(ACCOUNTS[:5]) if rng.random() < 0.8 else rng.choice(ACCOUNTS),
                rng.choice(REGIONS) if rng.random() < 0.3 else REGIONS[0],
                at,
                name.startswith("Operation0"),
                (
                    ("n", name),
                    ("s", "kms.amazonaws.com"),
                    ("u", user),
                    ("k", f"AKIA{user.upper():0>16}"[:20]),
                    ("t", "AWS::KMS::Key"),
                    ("m", f"arn:aws:kms:us-east-1:{ACCOUNTS[0]}:key/{rng.randrange(2000)}"),
                ),
                body,
            )
        )
    return rows


def timed(fn: Callable[[], object], runs: int = 20) -> tuple[float, float, int]:
    times = []
    found = 0
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        found = len(result) if isinstance(result, list) else 0
    return statistics.median(times) * 1000, max(times) * 1000, found


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--events", "count", type=click.IntRange(1000), default=1_000_000, show_default=True)
@click.option("--store", default=None, help="Database URL (default: a temporary SQLite file).")
@click.option("--seed", type=int, default=7, show_default=True)
def main(count: int, store: str | None, seed: int) -> None:
    """Insert COUNT events, index them, and time LookupEvents-style queries."""
    tmp = tempfile.TemporaryDirectory(prefix="strongroom-audit-bench-")
    table = f"bench_kv_{uuid.uuid4().hex[:8]}"
    url = store or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    kv = open_store(url) if url.startswith("sqlite") else None
    if kv is None:
        from strongroom.storage.postgres import PostgresStore

        kv = PostgresStore(url, table=table)
    log: AuditLog = open_audit_log(url, table=table, appender=True)
    rng = random.Random(seed)
    try:
        print(f"{log.kind}: inserting {count:,} events ...", flush=True)
        start = time.perf_counter()
        done = 0
        while done < count:
            n = min(2000, count - done)
            log.append(make_rows(n, rng, done, count), START_US)
            done += n
        insert_s = time.perf_counter() - start
        start = time.perf_counter()
        while log.index_pending(20_000):
            pass
        index_s = time.perf_counter() - start
        print(
            f"  appended {count / insert_s:,.0f} events/s ({insert_s:.1f} s, batches of 2,000, "
            f"synchronous commits); indexed {count / index_s:,.0f} events/s ({index_s:.1f} s)"
        )
        acct, region = ACCOUNTS[0], REGIONS[0]
        sample = log.lookup(LookupQuery(acct, region, limit=1))[0]
        mid = START_US + SPAN_US // 2

        def walk(pages: int) -> list[object]:
            before = None
            got: list[object] = []
            for _ in range(pages):
                page = log.lookup(LookupQuery(acct, region, limit=50, before=before))
                got = list(page)
                before = (page[-1].event_time_us, page[-1].seq)
            return got

        cases: list[tuple[str, Callable[[], object]]] = [
            ("newest 50 of an account/region", lambda: log.lookup(LookupQuery(acct, region))),
            (
                "EventName (common)",
                lambda: log.lookup(LookupQuery(acct, region, "EventName", "Operation00")),
            ),
            (
                "EventName (rare)",
                lambda: log.lookup(LookupQuery(acct, region, "EventName", "RareOperation")),
            ),
            ("Username", lambda: log.lookup(LookupQuery(acct, region, "Username", "user7"))),
            (
                "AccessKeyId",
                lambda: log.lookup(
                    LookupQuery(acct, region, "AccessKeyId", "AKIA00000000000USER7"[:20])
                ),
            ),
            ("ReadOnly=false", lambda: log.lookup(LookupQuery(acct, region, "ReadOnly", "false"))),
            (
                "ResourceName",
                lambda: log.lookup(
                    LookupQuery(
                        acct, region, "ResourceName", f"arn:aws:kms:us-east-1:{ACCOUNTS[0]}:key/42"
                    )
                ),
            ),
            ("EventId", lambda: log.lookup(LookupQuery(acct, region, "EventId", sample.event_id))),
            (
                "one-hour window mid-month",
                lambda: log.lookup(
                    LookupQuery(acct, region, start_us=mid, end_us=mid + 3_600_000_000)
                ),
            ),
            ("10th page (NextToken walk)", lambda: walk(10)),
        ]
        print(f"  {'lookup':34} {'median':>9} {'worst':>9} {'found':>6}")
        for label, fn in cases:
            median, worst, found = timed(fn)
            print(f"  {label:34} {median:7.2f} ms {worst:7.2f} ms {found:6d}")
    finally:
        log.close()
        kv.close()
        if url.startswith(("postgres://", "postgresql://")):
            import psycopg

            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(
                    f"DROP TABLE IF EXISTS {table}, {table}_schema_version, {table}_audit_events, "
                    f"{table}_audit_index, {table}_audit_postings, {table}_audit_pending, {table}_audit_meta"
                )
        tmp.cleanup()


if __name__ == "__main__":
    main()
