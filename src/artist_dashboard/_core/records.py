"""Core: the inputs (a user, a post, a follow) as storage hands them to the core.

Construction applies SPEC §5 to bad stored values, so no store has to: a negative, null or
non-integer counter becomes 0, null text becomes "", a naive time is UTC. Each correction is
counted in the build or load under way, which logs one summary on
``artist_dashboard.corrections`` (`values.counting_corrections`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
from attrs import field, frozen

from .values import as_utc, clamp_counter, corrected


def _text(value: object, self_: Any, attribute: attrs.Attribute[Any]) -> str:
    if isinstance(value, str):
        return value
    kind = type(self_).__name__.lower()
    corrected(
        f"{kind}.{attribute.name}",
        lambda: f"{kind} {_name_of(self_)}: {attribute.name} {value!r} replaced by an empty string",
    )
    return ""


def _counter(value: object, self_: Any, attribute: attrs.Attribute[Any]) -> int:
    if type(value) is int and value >= 0:  # the common case, without the general rule's checks
        return value
    clamped = clamp_counter(value)
    if clamped != value or isinstance(value, bool):
        kind = type(self_).__name__.lower()
        corrected(
            f"{kind}.{attribute.name}",
            lambda: f"{kind} {_name_of(self_)}: {attribute.name} {value!r} counted as {clamped}",
        )
    return clamped


def _flag(value: object, self_: Any, attribute: attrs.Attribute[Any]) -> bool:
    if isinstance(value, bool):
        return value
    kind = type(self_).__name__.lower()
    corrected(
        f"{kind}.{attribute.name}",
        lambda: f"{kind} {_name_of(self_)}: {attribute.name} {value!r} read as false",
    )
    return False


def _name_of(record: Any) -> str:
    """How a corrected record is named in the log: its id, or its artist and day."""
    if hasattr(record, "id"):
        return str(record.id)
    return f"{getattr(record, 'artist_id', '?')} {getattr(record, 'day', '?')}"


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


# --- the analytics sources (SPEC §6) -------------------------------------------------------

#: An event's kind: its collection's name for views and plays, its `type` for engagements.
EVENT_KINDS = ("view", "play", "like", "comment", "save", "share")
#: Each kind, and the collection it is keyed in (ids are unique within a collection).
EVENT_COLLECTIONS = {
    "view": "post_view_events",
    "play": "post_play_events",
    **dict.fromkeys(("like", "comment", "save", "share"), "post_engagement_events"),
}


def _kind(value: str) -> str:
    if value not in EVENT_KINDS:
        raise ValueError(f"an event's kind is one of {', '.join(EVENT_KINDS)}, not {value!r}")
    return value


def _upper(value: object) -> str:
    return str(value).upper()


def _viewer(value: object) -> str | None:
    """A person who acted; None, absent or "" is anonymous."""
    return str(value) if value else None


@frozen
class PostEvent:
    """Someone viewed, played, liked, commented, saved or shared a post at `created_at`.

    `user_id` is None for an anonymous event. The event counts for the author of its post —
    live, deleted or hidden — and nowhere when the post does not exist.
    """

    id: str
    post_id: str
    created_at: datetime = field(converter=as_utc)
    kind: str = field(default="view", converter=_kind)
    user_id: str | None = field(default=None, converter=_viewer)

    @property
    def key(self) -> tuple[str, str]:
        """What identifies the event: its id within its collection."""
        return EVENT_COLLECTIONS[self.kind], self.id


@frozen
class DailyAnalytics:
    """One ``daily_artist_analytics`` row: the artist's figures for one UTC day, imported or
    written by the rollup. Counters are read like a post's (clamped at 0)."""

    artist_id: str
    day: date
    view_count: int = _counter_field()
    play_count: int = _counter_field()
    likes_count: int = _counter_field()
    comments_count: int = _counter_field()
    saves_count: int = _counter_field()
    shares_count: int = _counter_field()


@frozen
class Earning:
    """One revenue entry: an exact `amount` (negative for a refund) in `currency`, the ISO 4217
    code, upper-cased."""

    id: str
    artist_id: str
    amount: Decimal
    currency: str = field(converter=_upper)
    created_at: datetime = field(converter=as_utc)


# --- what the analytics ports answer -------------------------------------------------------


@frozen
class DayFigures:
    """One artist's six counters for one UTC day."""

    day: date
    view_count: int = 0
    play_count: int = 0
    likes_count: int = 0
    comments_count: int = 0
    saves_count: int = 0
    shares_count: int = 0


@frozen
class Standing:
    """Where an artist stands among the `ranked` artists (those with reach in the window):
    `at_or_below` of them have an engagement rate at most the artist's; both are 0 when the
    artist is not ranked (and then `ranked` may say how many are)."""

    at_or_below: int = 0
    ranked: int = 0


@frozen
class CurrencyTotal:
    """The exact sum of an artist's entries in one currency over a window, and how many."""

    currency: str
    amount: Decimal
    entries: int


# --- one dashboard read at once (the optional `WholeDashboardRepo`) ------------------------

#: A time window, ``(after, until)``: ``after < created_at <= until``.
Window = tuple[datetime, datetime]


@frozen
class DashboardAsk:
    """Every read one dashboard makes, for a store that answers them all at once.

    The windows and limits are exactly those the build passes to the ports. `days` (the
    chart's and comparison's days, oldest first), `standing_days`, `audience_window` and
    `revenue_window` are None when the store's repos do not configure that source.
    """

    user_id: str
    now: datetime
    top_limit: int
    recent_after: datetime
    recent_limit: int
    follower_windows: tuple[Window, ...]
    days: tuple[date, ...] | None = None
    standing_days: tuple[date, date] | None = None
    audience_window: Window | None = None
    revenue_window: Window | None = None


@frozen
class DashboardReads:
    """What a store read for a `DashboardAsk`: each port's answer, as the port would give it.

    `new_followers` is keyed by the ask's windows. `people` holds the users that exist among
    the recent followers. `event_days` cover the days from `events_from` through the ask's
    last day (None: the store read no events, every day having its row); days that have a
    daily row may be left out, the row being their figure.
    """

    user: User | None
    totals: PostTotals = PostTotals()
    collaborations: int = 0
    followers: int = 0
    following: int = 0
    new_followers: Mapping[Window, int] = field(factory=dict)
    top_posts: Sequence[Post] = ()
    recent_posts: Sequence[Post] = ()
    recent_followers: Sequence[Follow] = ()
    people: Mapping[str, User] = field(factory=dict)
    daily_rows: Sequence[DayFigures] = ()
    events_from: date | None = None
    event_days: Sequence[DayFigures] = ()
    standing: Standing | None = None
    non_followers: int = 0
    revenue: Sequence[CurrencyTotal] = ()
