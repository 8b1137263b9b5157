"""docs/api-coverage.md must match what the code implements."""

from __future__ import annotations

from pathlib import Path

from strongroom.coverage import render

DOC = Path(__file__).resolve().parents[2] / "docs" / "api-coverage.md"


def test_api_coverage_doc_is_current() -> None:
    assert DOC.read_text() == render(), (
        "regenerate: python -m strongroom.coverage > docs/api-coverage.md"
    )
