"""Core: the wire format of the dashboard; every JSON decision lives here, and only here.

- Keys are camelCase (``stage_name`` -> ``stageName``); an ``id`` field is ``_id``.
- Instants are ISO-8601 UTC with exactly three fraction digits and ``Z``
  (``2026-06-08T00:00:00.000Z``), as JavaScript's ``Date.toISOString`` writes them;
  sub-millisecond digits are dropped, not rounded.
- Counts are JSON integers. Rates, percentages and amounts are exact decimals (SPEC §6) written
  as the shortest plain decimal with at most 2 places (``7.5``, ``50``, ``0``): never an
  exponent, never ``-0``; a whole one is a JSON integer, as ``JSON.stringify`` writes it.
- Every key is always present, except in a recent activity item: a ``newFollower`` carries
  ``user`` and no ``post``, a ``newPost`` carries ``post`` and no ``user``. A value the
  library does not have is ``null``, never absent: ``comparison`` without an analytics source,
  ``meta.earningsCurrency`` without entries, a ``changePercent`` whose previous period is 0.
- A top content item also carries ``sharesCount`` (so a client can check ``engagementScore``).
  The schema does not require it, nor ``comparison`` and ``meta.earningsCurrency`` (always
  written, added after the note), so the app's original example still validates.
- A chart point's ``date`` is a calendar day, ``YYYY-MM-DD``.
- Strings are never null; lists are JSON arrays (``engagementChart`` is ``[]`` until events or
  daily analytics exist).
- The chart as CSV (SPEC §6.4): a header, one line per point in the chart's order, numbers
  written as in the JSON, LF line ends and a final newline.

`to_dict` / `to_json` write, `from_dict` / `from_json` read back, `json_schema` describes the
result as JSON Schema Draft 2020-12 with ``additionalProperties: false`` everywhere,
`chart_csv` writes the chart.
"""

from __future__ import annotations

import json
import secrets
import types
import typing
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from .numbers import plain
from .response import (
    NEW_FOLLOWER,
    NEW_POST,
    ArtistDashboard,
    ArtistDashboardMeta,
    ArtistDashboardRecentActivity,
    ArtistDashboardTopContent,
    ProfileOverview,
)

__all__ = [
    "CHART_CSV_HEADER",
    "SCHEMA_BASE",
    "chart_csv",
    "format_instant",
    "from_dict",
    "from_json",
    "json_schema",
    "parse_instant",
    "to_dict",
    "to_json",
]

SCHEMA_BASE = "https://artist-dashboard.invalid/schemas/"

#: Keys written only when set (the activity item of the other type leaves them out).
_OPTIONAL_KEYS: dict[type, tuple[str, ...]] = {ArtistDashboardRecentActivity: ("user", "post")}
#: Keys always written but not required by the schema: the seed's example predates them.
_ADDED_KEYS: dict[type, tuple[str, ...]] = {
    ArtistDashboardTopContent: ("shares_count",),
    ArtistDashboard: ("comparison",),
    ArtistDashboardMeta: ("earnings_currency",),
}


def wire_name(field_name: str) -> str:
    """``stage_name`` -> ``stageName``; ``id`` -> ``_id``."""
    if field_name == "id":
        return "_id"
    head, *rest = field_name.split("_")
    return head + "".join(part.title() for part in rest)


def format_instant(value: datetime) -> str:
    """``2026-06-08T00:00:00.000Z``: UTC, milliseconds, ``Z`` (a naive value is UTC)."""
    # isoformat truncates to milliseconds, as toISOString does; a naive value prints no offset.
    utc = value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"


def parse_instant(text: str) -> datetime:
    """An ISO-8601 instant as an aware UTC datetime (a time without offset is UTC)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _number(value: Decimal) -> int | float | Decimal:
    """A decimal as JSON-ready Python: an int when whole; a float when the float prints as
    exactly the plain decimal (any rate or amount under about 10^13); else the Decimal itself,
    which `to_json` writes as its exact plain text."""
    text = plain(value)
    if "." not in text:
        return int(text)
    number = float(text)
    return number if repr(number) == text else value


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(unstruct_collection_overrides={tuple: list})
    converter.register_unstructure_hook(date, date.isoformat)
    converter.register_structure_hook(date, lambda v, _: date.fromisoformat(v))
    converter.register_unstructure_hook(datetime, format_instant)
    converter.register_structure_hook(datetime, lambda v, _: parse_instant(v))
    converter.register_unstructure_hook(Decimal, _number)
    converter.register_structure_hook(Decimal, lambda v, _: Decimal(str(v)))

    def renames(cls: type) -> dict[str, Any]:
        optional = _OPTIONAL_KEYS.get(cls, ())
        return {
            a.name: override(rename=wire_name(a.name), omit_if_default=a.name in optional)
            for a in attrs.fields(cls)
        }

    converter.register_unstructure_hook_factory(
        attrs.has, lambda cls: make_dict_unstructure_fn(cls, converter, **renames(cls))
    )
    converter.register_structure_hook_factory(
        attrs.has,
        lambda cls: make_dict_structure_fn(
            cls, converter, _cattrs_forbid_extra_keys=True, **renames(cls)
        ),
    )
    return converter


_converter = _make_converter()

try:  # optional: the `fast` extra. The standard library writes the very same text without it.
    import orjson
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _text_converter = None
else:
    _text_converter = _make_converter()
    # Every exact decimal written as its plain text, without a detour through float.
    _text_converter.register_unstructure_hook(Decimal, lambda value: orjson.Fragment(plain(value)))


def to_dict(response: ArtistDashboard | ProfileOverview) -> dict[str, Any]:
    """A dashboard (or a profile overview) as JSON-ready Python values."""
    result: dict[str, Any] = _converter.unstructure(response)
    return result


def to_json(response: ArtistDashboard | ProfileOverview, *, indent: int | None = None) -> str:
    """The response as JSON text; exact decimals are written as plain decimal numbers."""
    if indent is None and _text_converter is not None:
        try:
            return orjson.dumps(_text_converter.unstructure(response)).decode()
        except orjson.JSONEncodeError:
            pass  # a count past 2^64: the standard library writes any integer
    return _standard_json(response, indent)


def _standard_json(response: ArtistDashboard | ProfileOverview, indent: int | None) -> str:
    """`to_json` by the standard library alone (where orjson is absent, or to indent)."""
    exact: list[str] = []
    nonce = secrets.token_hex(8)

    def token(value: object) -> str:
        if not isinstance(value, Decimal):
            raise TypeError(f"{type(value).__name__} is not JSON")
        exact.append(plain(value))
        return f"\ue000{nonce}:{len(exact) - 1}\ue000"

    text = json.dumps(
        to_dict(response),
        indent=indent,
        separators=None if indent is not None else (",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=token,
    )
    for number, value in enumerate(exact):
        text = text.replace(f'"\ue000{nonce}:{number}\ue000"', value)
    return text


def from_dict(data: dict[str, Any]) -> ArtistDashboard:
    """Read a dashboard back from its JSON form; unknown keys are an error."""
    return _converter.structure(data, ArtistDashboard)


def from_json(text: str) -> ArtistDashboard:
    return from_dict(json.loads(text, parse_float=Decimal))


#: The header of the chart as CSV (SPEC §6.4).
CHART_CSV_HEADER = (
    "date,viewCount,playCount,likesCount,commentsCount,savesCount,sharesCount,engagementRate"
)


def chart_csv(dashboard: ArtistDashboard) -> str:
    """The engagement chart as CSV: the header, then one line per point, oldest first; an
    unavailable chart gives the header alone."""
    lines = [CHART_CSV_HEADER]
    for point in dashboard.engagement_chart:
        counts = (
            point.view_count,
            point.play_count,
            point.likes_count,
            point.comments_count,
            point.saves_count,
            point.shares_count,
        )
        rate = plain(point.engagement_rate)
        lines.append(",".join([point.date.isoformat(), *map(str, counts), rate]))
    return "\n".join(lines) + "\n"


# --- JSON Schema ---------------------------------------------------------------------------

_INSTANT_SCHEMA = {
    "type": "string",
    "format": "date-time",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
}


def _type_schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    if attrs.has(tp):
        _class_schema(tp, defs)
        return {"$ref": f"#/$defs/{tp.__name__}"}
    origin = typing.get_origin(tp)
    if origin is tuple:
        return {"type": "array", "items": _type_schema(typing.get_args(tp)[0], defs)}
    if origin in (typing.Union, types.UnionType):
        (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
        return {"anyOf": [_type_schema(inner, defs), {"type": "null"}]}
    simple: dict[Any, dict[str, Any]] = {
        str: {"type": "string"},
        bool: {"type": "boolean"},
        int: {"type": "integer", "minimum": 0},
        Decimal: {"type": "number"},
        datetime: _INSTANT_SCHEMA,
        date: {"type": "string", "format": "date"},
    }
    return dict(simple[tp])


def _not_none(tp: Any) -> Any:
    (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
    return inner


def _class_schema(cls: type, defs: dict[str, Any]) -> None:
    if cls.__name__ in defs:
        return
    defs[cls.__name__] = {}  # placeholder: stops recursion
    hints = typing.get_type_hints(cls)
    optional = _OPTIONAL_KEYS.get(cls, ()) + _ADDED_KEYS.get(cls, ())
    properties = {
        # A key left out when unset is never null; any other optional value is null.
        wire_name(a.name): _type_schema(
            _not_none(hints[a.name]) if a.name in _OPTIONAL_KEYS.get(cls, ()) else hints[a.name],
            defs,
        )
        for a in attrs.fields(cls)
    }
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": [wire_name(a.name) for a in attrs.fields(cls) if a.name not in optional],
        "additionalProperties": False,
    }
    if cls is ArtistDashboardRecentActivity:
        properties["type"] = {"enum": [NEW_FOLLOWER, NEW_POST]}
        schema["oneOf"] = [
            {
                "properties": {"type": {"const": kind}},
                "required": [present],
                "not": {"required": [absent]},
            }
            for kind, present, absent in (
                (NEW_FOLLOWER, "user", "post"),
                (NEW_POST, "post", "user"),
            )
        ]
    defs[cls.__name__] = schema


def json_schema(root_class: type = ArtistDashboard) -> dict[str, Any]:
    """JSON Schema (Draft 2020-12) of a response (the dashboard by default), generated from
    the classes."""
    defs: dict[str, Any] = {}
    root = _type_schema(root_class, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{SCHEMA_BASE}{root_class.__name__}.json",
        "title": root_class.__name__,
        **root,
        "$defs": dict(sorted(defs.items())),
    }
