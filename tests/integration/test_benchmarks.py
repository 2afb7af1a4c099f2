"""The benchmark code stays honest: at a tiny scale its three ways agree and it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from benchmarks import generate, run
from sqlalchemy import create_engine


def test_the_runner_measures_agreeing_figures_at_a_tiny_scale(tmp_path: Path) -> None:
    """Library, hand-written SQL and the naive way agree on the generated data (the runner
    refuses to time them otherwise), and the maintained mode agrees with the live one."""
    engine = create_engine(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    run.ensure_data(engine, 0.001)
    results = run.measure_database(engine, repeat=1)
    assert set(results) == {"heavy", "typical", "ratios"}
    assert results["heavy"]["library_ms"] > 0
    kept = run.measure_maintained(engine, repeat=1)
    assert kept["heavy_ms"] > 0
    assert set(kept["write_us"]["with"]) == {
        "post_counter_update",
        "follow_insert",
        "follow_delete",
    }


def test_the_generator_is_deterministic() -> None:
    """The same scale gives the same data, every time."""
    shape = generate.Shape(0.001)
    first = [p.id for p in generate.posts(shape)][:50], list(generate.follows(shape))[:50]
    again = [p.id for p in generate.posts(shape)][:50], list(generate.follows(shape))[:50]
    assert first == again


def test_the_analytics_measurements_agree_at_a_tiny_scale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Events load, the rollup runs, and non-followers counted three ways — from the raw
    events, by the store, from the maintained audience — agree before anything is timed."""
    monkeypatch.setattr(run, "DATA", tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    run.ensure_data(engine, 0.001)
    results = run.measure_analytics(engine, 0.001, repeat=1)
    assert results["event_load_problems"] == 0
    assert results["events"] == sum(1 for _ in generate.events(generate.Shape(0.001)))
    assert results["heavy"]["non_followers"] > 0
    assert results["maintained"]["heavy_non_followers_ms"] > 0
    assert "sqlite analytics:" in run.table({"sqlite": {"analytics": results}})
