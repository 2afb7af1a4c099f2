"""Core: the inputs (a user, a post, a follow) as storage hands them to the core.

Construction applies SPEC §5 to bad stored values, so no store has to: a negative, null or
non-integer counter becomes 0, null text becomes "", a naive time is UTC. Each correction is
logged on the ``artist_dashboard`` logger.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from attrs import field, frozen

from .values import as_utc, clamp_counter, log


def _text(value: object, self_: Any, attribute: attrs.Attribute[Any]) -> str:
    if isinstance(value, str):
        return value
    log.warning(
        "%s %s: %s %r replaced by an empty string",
        type(self_).__name__.lower(),
        getattr(self_, "id", "?"),
        attribute.name,
        value,
    )
    return ""


def _counter(value: object, self_: Any, attribute: attrs.Attribute[Any]) -> int:
    if type(value) is int and value >= 0:  # the common case, without the general rule's checks
        return value
    clamped = clamp_counter(value)
    if clamped != value or isinstance(value, bool):
        log.warning(
            "post %s: %s %r counted as %d",
            getattr(self_, "id", "?"),
            attribute.name,
            value,
            clamped,
        )
    return clamped


def _flag(value: object, self_: Any, attribute: attrs.Attribute[Any]) -> bool:
    if isinstance(value, bool):
        return value
    log.warning(
        "%s %s: %s %r read as false",
        type(self_).__name__.lower(),
        getattr(self_, "id", "?"),
        attribute.name,
        value,
    )
    return False


def _ids(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    # A set of ids, held in one canonical order so that equal posts compare equal.
    return tuple(sorted({str(v) for v in value}))  # type: ignore[attr-defined]


# Converters that take self name the record in their log line. attrs' mypy plugin cannot see
# through `attrs.Converter`, so the fields are made by these helpers and typed by annotation.


def _text_field() -> Any:
    return field(default="", converter=attrs.Converter(_text, takes_self=True, takes_field=True))


def _counter_field() -> Any:
    return field(default=0, converter=attrs.Converter(_counter, takes_self=True, takes_field=True))


def _flag_field() -> Any:
    return field(default=False, converter=attrs.Converter(_flag, takes_self=True, takes_field=True))


@frozen
class User:
    """A user's own record; `name`, `stage_name` ... are "" when missing, never None."""

    id: str
    name: str = _text_field()
    stage_name: str = _text_field()
    bio: str = _text_field()
    avatar: str = _text_field()
    cover_image: str = _text_field()
    is_verified: bool = _flag_field()


@frozen
class Post:
    """One post; a deleted or hidden post (`is_deleted`) counts nowhere."""

    id: str
    author_id: str
    created_at: datetime = field(converter=as_utc)
    collaborator_ids: tuple[str, ...] = field(default=(), converter=_ids)
    post_type: str = _text_field()
    content: str = _text_field()
    thumbnail_url: str = _text_field()
    display_url: str = _text_field()
    view_count: int = _counter_field()
    play_count: int = _counter_field()
    likes_count: int = _counter_field()
    comments_count: int = _counter_field()
    saves_count: int = _counter_field()
    shares_count: int = _counter_field()
    is_deleted: bool = _flag_field()


@frozen
class Follow:
    """`follower_id` follows `followee_id` since `created_at`; only current follows exist."""

    follower_id: str
    followee_id: str
    created_at: datetime = field(converter=as_utc)


@frozen
class PostTotals:
    """Count and counter sums over an artist's live authored posts (clamped counters)."""

    posts: int = 0
    view_count: int = 0
    play_count: int = 0
    likes_count: int = 0
    comments_count: int = 0
    saves_count: int = 0
    shares_count: int = 0
