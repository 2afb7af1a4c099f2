"""The benchmark code stays honest: at a tiny scale its three ways agree and it reports."""

from __future__ import annotations

import uuid
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
    assert results["whole"]["typical"]["bound_over_floor"] > 0
    assert "the design's bound" in run.table({"sqlite": {"analytics": results}})


def test_the_design_bound_builds_a_whole_dashboard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The design's bound builds as much as the library does — as many chart points, top
    posts and activity entries, every record — and a dashboard the wire schema accepts, so
    that its time is not flattered by building less."""
    import jsonschema
    from benchmarks.handwritten import (
        design_bound,
        driver_sql,
        whole_floor,
        whole_params,
        whole_statement,
    )

    from artist_dashboard import FixedClock, build_dashboard, wire
    from artist_dashboard.sql import SqlStore

    monkeypatch.setattr(run, "DATA", tmp_path)
    engine = create_engine(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    run.ensure_data(engine, 0.001)
    run.measure_analytics(engine, 0.001, repeat=1)
    sql = driver_sql(whole_statement(False), False)
    store = SqlStore(engine)
    for who in (generate.HEAVY, generate.TYPICAL):
        library = build_dashboard(who, store.repos, FixedClock(generate.NOW))
        with run.pooled_driver(engine) as driver:
            row = whole_floor(driver, sql, whole_params(who, generate.NOW, False), False)
        bound = design_bound(row, generate.NOW)
        assert len(bound.engagement_chart) == len(library.engagement_chart)
        assert [t.id for t in bound.top_content] == [t.id for t in library.top_content]
        assert len(bound.recent_activity) == len(library.recent_activity)
        jsonschema.validate(wire.to_dict(bound), wire.json_schema())


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_service_benchmark_measures_the_design_bound_beside_the_service(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The service benchmark serves the dashboard, the bare endpoint and the design's bound,
    each under the same short load, and reports each one's rate against bare."""
    pytest.importorskip("uvicorn", reason="the serve extra is not installed")
    from benchmarks.service import measure_service
    from sqlalchemy import text

    monkeypatch.setattr(run, "DATA", tmp_path)
    name = f"artist_dashboard_test_bench_{uuid.uuid4().hex[:12]}"
    if database == "postgresql":
        admin_url = request.getfixturevalue("postgres_admin_url")
        engine = run.postgres_engine(admin_url, 0.001, name=name)
    else:
        engine = create_engine(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    url = engine.url.render_as_string(hide_password=False)
    try:
        run.ensure_data(engine, 0.001)
        run.measure_analytics(engine, 0.001, repeat=1)
        engine.dispose()
        results = measure_service(
            url, generate.TYPICAL, seconds=1, extra=["--workers", "1"], bound=True
        )
    finally:
        engine.dispose()
        if database == "postgresql":
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    for server in ("service", "bare", "bound"):
        assert results[server]["requests_per_second"] > 0
    assert results["bound_over_bare"] > 0
    assert "the design's bound" in run.table({"service": {"built_each_request": results}})
