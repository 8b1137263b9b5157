"""Results: one row per (call, target), with the ratio against moto."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from typing import Any

from bench_wrk import WrkResult
from rich.console import Console
from rich.table import Table

BASELINE = "moto"


@dataclass(frozen=True)
class Row:
    call: str
    target: str  # "moto", "strongroom-uvicorn-w2", ...
    description: str
    result: WrkResult  # the median run
    all_rps: tuple[float, ...] = ()  # every measured run, for the spread
    # CPU of the server's process tree per request, µs: median over runs, and each run's.
    cpu_us: float | None = None
    all_cpu_us: tuple[float | None, ...] = ()


UNAUDITED_SUFFIX = "-noaudit"


def ratios(rows: list[Row]) -> dict[tuple[str, str], float | None]:
    """Throughput of each row relative to moto's for the same call.

    With several rounds, the ratio is the median of the per-round ratios:
    round i of every target ran back to back, so pairing them cancels most
    of the outside load a shared machine adds to one round. With one round
    it is simply the ratio of the two req/s figures.
    """
    baseline = {row.call: row for row in rows if row.target == BASELINE}
    out: dict[tuple[str, str], float | None] = {}
    for row in rows:
        base = baseline.get(row.call)
        if base is None or not base.result.rps:
            out[(row.call, row.target)] = None
        else:
            out[(row.call, row.target)] = _paired_median(row, base)
    return out


def _paired_median(row: Row, base: Row) -> float | None:
    """Median of the per-round req/s ratios (the plain ratio with one round)."""
    if len(row.all_rps) > 1 and len(row.all_rps) == len(base.all_rps):
        paired = [a / b for a, b in zip(row.all_rps, base.all_rps, strict=True) if b]
        return statistics.median(paired) if paired else None
    return row.result.rps / base.result.rps if base.result.rps else None


def audit_costs(rows: list[Row]) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """For each audited target run beside its unaudited twin (``--audit-off``):
    (audited req/s over unaudited, as the median of per-round ratios;
    unaudited CPU per request over audited, the same cost seen as CPU)."""
    by_key = {(row.call, row.target): row for row in rows}
    out: dict[tuple[str, str], tuple[float | None, float | None]] = {}
    for row in rows:
        twin = by_key.get((row.call, row.target + UNAUDITED_SUFFIX))
        if twin is None:
            continue
        cpu = twin.cpu_us / row.cpu_us if twin.cpu_us and row.cpu_us else None
        out[(row.call, row.target)] = (_paired_median(row, twin), cpu)
    return out


def _fmt_ms(value: float) -> str:
    return f"{value:.2f} ms" if value < 100 else f"{value:.0f} ms"


def table(rows: list[Row], title: str) -> Table:
    ratio = ratios(rows)
    grid = Table(title=title, title_justify="left")
    grid.add_column("call")
    grid.add_column("target")
    grid.add_column("req/s", justify="right")
    grid.add_column("runs (min-max)", justify="right")
    grid.add_column("p50", justify="right")
    grid.add_column("p99", justify="right")
    grid.add_column("CPU/req", justify="right")
    grid.add_column("vs moto", justify="right")
    grid.add_column("errors", justify="right")
    previous_call = None
    for row in rows:
        r = ratio[(row.call, row.target)]
        grid.add_row(
            row.call if row.call != previous_call else "",
            row.target,
            f"{row.result.rps:,.0f}",
            f"{min(row.all_rps):,.0f}-{max(row.all_rps):,.0f}" if len(row.all_rps) > 1 else "",
            _fmt_ms(row.result.p50_ms),
            _fmt_ms(row.result.p99_ms),
            f"{row.cpu_us:.0f} µs" if row.cpu_us is not None else "",
            "—" if row.target == BASELINE or r is None else f"{r:.1f}x",
            str(row.result.errors) if row.result.errors else "0",
            style="red" if row.result.errors else None,
        )
        previous_call = row.call
    return grid


def print_table(console: Console, rows: list[Row], title: str) -> None:
    # Sort by call first so that each call's targets sit together under moto.
    order = {name: i for i, name in enumerate(dict.fromkeys(row.call for row in rows))}
    rows = sorted(rows, key=lambda row: (order[row.call], row.target != BASELINE))
    console.print(table(rows, title))
    descriptions = dict.fromkeys((row.target, row.description) for row in rows)
    for target, description in descriptions:
        console.print(f"  [bold]{target}[/]: {description}")
    console.print("  CPU/req: user+system CPU of the server's whole process tree per request")
    for (call, target), (by_rps, by_cpu) in audit_costs(rows).items():
        console.print(
            f"  audit cost, {call} on {target}: audited/unaudited req/s "
            + (f"{by_rps:.2f}" if by_rps is not None else "?")
            + ", unaudited/audited CPU per request "
            + (f"{by_cpu:.2f}" if by_cpu is not None else "?")
        )


def as_json(rows: list[Row], meta: dict[str, Any]) -> str:
    ratio = ratios(rows)
    costs = audit_costs(rows)
    results = []
    for row in rows:
        entry: dict[str, Any] = {
            "call": row.call,
            "target": row.target,
            "description": row.description,
        }
        entry.update(asdict(row.result))
        entry["all_rps"] = list(row.all_rps)
        entry["ratio_vs_moto"] = ratio[(row.call, row.target)]
        entry["cpu_us_per_request"] = row.cpu_us
        entry["all_cpu_us_per_request"] = list(row.all_cpu_us)
        if (row.call, row.target) in costs:
            entry["audited_vs_unaudited"], entry["unaudited_vs_audited_cpu"] = costs[
                (row.call, row.target)
            ]
        results.append(entry)
    return json.dumps({"meta": meta, "results": results}, indent=2)
