"""The contract with the app: the demo reproduces the app team's example response."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

#: The app team's example response, as the repository keeps it.
SEED = Path(__file__).parent / "seed" / "dashboard-example.json"


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
