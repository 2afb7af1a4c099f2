"""Bad stored values are corrected as SPEC §5 says, and every correction is logged."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pytest

from artist_dashboard import Follow, Post, User


def test_bad_counters_clamp_to_zero_and_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    """A negative or null counter counts 0, and the log names the post and the field."""
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        post = Post(
            id="p1",
            author_id="a",
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
            view_count=-5,
            likes_count=None,  # type: ignore[arg-type]
        )
    assert (post.view_count, post.likes_count) == (0, 0)
    assert "post p1: view_count -5 counted as 0" in caplog.text
    assert "post p1: likes_count None counted as 0" in caplog.text


def test_null_text_becomes_empty_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Null text is "" (never None) in a user and a post, with a log line each."""
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        user = User(id="u1", name=None, is_verified=None)  # type: ignore[arg-type]
        post = Post(id="p1", author_id="u1", created_at=datetime.now(UTC), content=None)  # type: ignore[arg-type]
    assert (user.name, user.is_verified, post.content) == ("", False, "")
    assert "user u1: name None" in caplog.text
    assert "post p1: content None" in caplog.text


def test_good_values_log_nothing(caplog: pytest.LogCaptureFixture) -> None:
    """Correct records are silent."""
    with caplog.at_level(logging.DEBUG, logger="artist_dashboard"):
        Post(id="p", author_id="a", created_at=datetime.now(UTC), view_count=3, content="x")
    assert caplog.records == []


def test_times_are_utc() -> None:
    """A naive time is UTC; an aware one in another zone is converted, not relabelled."""
    naive = Follow(follower_id="a", followee_id="b", created_at=datetime(2026, 1, 1, 12))
    plus_two = Follow(
        follower_id="a",
        followee_id="b",
        created_at=datetime(2026, 1, 1, 14, tzinfo=timezone(timedelta(hours=2))),
    )
    assert naive.created_at == datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert plus_two.created_at == naive.created_at
    assert plus_two.created_at.tzinfo is UTC


def test_collaborators_are_a_set() -> None:
    """A collaborator listed twice is one collaborator, and the order of listing is not kept."""
    post = Post(
        id="p", author_id="a", created_at=datetime.now(UTC), collaborator_ids=["c", "b", "c"]
    )
    same = Post(id="p", author_id="a", created_at=post.created_at, collaborator_ids=["b", "c"])
    assert post.collaborator_ids == ("b", "c")
    assert post == same
