"""The contract with the app: the demo reproduces the app team's example response."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

#: A copy of the app team's example, so the contract holds in any checkout.
SEED = Path(__file__).parent / "seed" / "dashboard-example.json"
#: The team's own copy, beside the repository in this workplace.
SHARED_SEED = Path(__file__).parents[3] / "shared" / "seed" / "dashboard-example.json"


def demo_output() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "artist_dashboard", "demo"], capture_output=True, check=True
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


#: Keys the contract added after the app team's example (SPEC §4, §6.3): always present, and
#: null without an analytics source.
ADDED = {"comparison": None}
ADDED_TO_META = {"earningsCurrency": None}


def test_demo_reproduces_the_seed_example() -> None:
    """Profile, stats, audience, chart and meta are the example's, key for key, in its order;
    the keys added since are there with their safe defaults; the top post is the example's
    "New track" (plus sharesCount, which the example predates)."""
    seed = json.loads(SEED.read_text())
    demo = demo_output()
    assert [k for k in demo if k not in ADDED] == list(seed)
    assert {k: demo[k] for k in ADDED} == ADDED
    meta = dict(demo["meta"])
    assert {k: meta.pop(k) for k in ADDED_TO_META} == ADDED_TO_META
    assert meta == seed["meta"]
    for section in ("profile", "stats", "audience", "engagementChart"):
        assert demo[section] == seed[section], section
    top = dict(demo["topContent"][0])
    assert top.pop("sharesCount") == 5
    assert top == seed["topContent"][0]
    assert top["engagementScore"] == 113
    assert 1 <= len(demo["topContent"]) <= 5


def test_demo_activity_is_real_events_of_the_demo_data() -> None:
    """The demo's recent activity lists the example's post and the followers of the last days,
    newest first, never more than ten."""
    activity = demo_output()["recentActivity"]
    assert 0 < len(activity) <= 10
    assert activity[0]["type"] == "newPost"
    assert activity[0]["post"]["content"] == "New track"
    stamps = [item["createdAt"] for item in activity]
    assert stamps == sorted(stamps, reverse=True)


def test_the_copied_example_is_the_app_teams_example() -> None:
    """The repository's copy of the example has not drifted from the shared original."""
    if not SHARED_SEED.exists():
        pytest.skip(f"no shared seed at {SHARED_SEED} (a checkout outside the workplace)")
    assert json.loads(SEED.read_text()) == json.loads(SHARED_SEED.read_text())
