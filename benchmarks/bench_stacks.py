#!/usr/bin/env python
"""Summarise a py-spy ``--format raw`` profile (collapsed stacks) as top functions.

    .venv/bin/python benchmarks/bench_stacks.py PROFILE.txt [--top 30] [--under handle]

run.py --profile DIR writes such files while wrk drives a Strongroom server.
Each line is ``frame;frame;...;leaf COUNT``. "own" is the share of samples
in which a function is the leaf (running itself), "incl" the share in which it
is anywhere on the stack (itself or something it called), both as a percent of
all non-idle samples, so the gateway, the ASGI server and the event loop can
be compared directly.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import click

_FRAME = re.compile(r"^(?P<func>.+?) \((?P<file>[^():]+)(?::\d+)?\)$")


def _name(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module.py)``: merge lines of one function."""
    match = _FRAME.match(frame)
    if match is None:
        return frame
    return f"{match['func']} ({Path(match['file']).name})"


def _matches(frame: str, under: str) -> bool:
    """``handle_async`` matches ``Pipeline.handle_async (pipeline.py)``."""
    func = frame.split(" (", 1)[0]
    return func == under or func.endswith("." + under)


def summarise(lines: list[str], under: str | None) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in lines:
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_name(f) for f in stack.split(";")[1:]]  # [0] names the process
        if under is not None:
            starts = [i for i, f in enumerate(frames) if _matches(f, under)]
            if not starts:
                continue
            frames = frames[starts[0] :]
        total += count
        if frames:
            own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count
    return total, own, inclusive


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("profile", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--top", type=click.IntRange(1, 500), default=30, show_default=True)
@click.option("--under", default=None, help="Only samples under this function (e.g. handle).")
def main(profile: Path, top: int, under: str | None) -> None:
    """Top functions of a py-spy collapsed-stack profile."""
    total, own, inclusive = summarise(profile.read_text().splitlines(), under)
    if total == 0:
        raise click.ClickException("no samples")
    print(f"{total} samples" + (f" under {under}" if under else ""))
    for title, counter in (("own", own), ("inclusive", inclusive)):
        print(f"\nTop {top} by {title} samples:")
        for name, count in counter.most_common(top):
            print(f"{100 * count / total:6.1f}%  {name}")


if __name__ == "__main__":
    main()
