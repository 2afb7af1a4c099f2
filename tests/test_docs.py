"""The README and docs: their Python examples run, and the Quick start is what CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def blocks(path: Path, language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(path.read_text()) if lang == language]


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_python_examples_run(path: Path) -> None:
    """Every ```python block of the file runs, in order, in one namespace."""
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for code in blocks(path, "python"):
        exec(compile(code, str(path), "exec"), namespace)


def test_quick_start_has_the_demo_then_the_tests() -> None:
    """Quick start holds exactly two sh blocks: the demo, then the test suite."""
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    sh = [body for lang, body in FENCE.findall(quick_start) if lang == "sh"]
    assert len(sh) == 2
    assert sh[0].strip().endswith("artist-dashboard demo")
    assert "pytest" in sh[1].strip().splitlines()[-1]


def test_ci_runs_the_quick_start_test_command() -> None:
    """.ci/run runs the very command the README gives for the test suite."""
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    sh = [body for lang, body in FENCE.findall(quick_start) if lang == "sh"]
    command = sh[1].strip().splitlines()[-1]
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines
