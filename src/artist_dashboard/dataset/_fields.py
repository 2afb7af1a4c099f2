"""Embedded default: reading one value of a dataset document — Extended JSON unwrapped, each
field checked and coerced, or the document reported as unreadable with the reason."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .._core.numbers import EXACT, MAX_AMOUNT_DIGITS
from .._core.values import MAX_COUNTER, MAX_ID_BYTES, as_utc, is_storable_id
from .._core.wire import parse_instant

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class UnreadableDocument(ValueError):
    """One document cannot be read; the message is the reason."""


# --- Extended JSON -------------------------------------------------------------------------


def number_text(text: object, kind: str) -> int | float | Decimal:
    """A number written as text: an int when whole, the exact Decimal of a ``$numberDecimal``
    (an amount is read from its text), else a float."""
    if not isinstance(text, str):
        raise UnreadableDocument(f"{kind} must hold a string")
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise UnreadableDocument(f"{kind} {text!r} is not a number") from None
    if value.is_finite() and value.adjusted() < 40 and value == value.to_integral_value():
        return int(value)
    if kind == "$numberDecimal" and value.is_finite():
        return value
    return float(value)  # far past any counter (or inf): reported as too large, not expanded


def unwrap(value: Any) -> Any:
    """Extended JSON wrappers replaced by the plain values they stand for."""
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "$oid":
            if not isinstance(inner, str):
                raise UnreadableDocument("$oid must hold a string")
            return inner
        if key in ("$numberLong", "$numberInt", "$numberDouble", "$numberDecimal"):
            return number_text(inner, key)
        if key == "$date":
            return read_instant(unwrap(inner), "$date")
    return {k: unwrap(v) for k, v in value.items()}


# --- field readers -------------------------------------------------------------------------


def read_instant(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            # parse_instant treats a time without an offset as UTC (SPEC §3).
            return parse_instant(value)
        except ValueError:
            raise UnreadableDocument(f"{name}: {value!r} is not an ISO-8601 time") from None
        except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
            raise UnreadableDocument(f"{name}: {value!r} is out of range in UTC") from None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return _EPOCH + timedelta(milliseconds=value)
        except OverflowError:
            raise UnreadableDocument(f"{name}: {value!r} milliseconds is out of range") from None
    raise UnreadableDocument(f"{name}: {value!r} is not a time")


def required(doc: dict[str, Any], name: str) -> Any:
    if doc.get(name) is None:
        raise UnreadableDocument(f"no {name}")
    return doc[name]


def read_id(value: Any, name: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if is_storable_id(value):
        return str(value)
    if isinstance(value, str) and value:
        raise UnreadableDocument(
            f"{name}: {shown(value)} is not an id any store can hold"
            f" (NUL, invalid Unicode, or over {MAX_ID_BYTES} bytes)"
        )
    raise UnreadableDocument(f"{name}: {shown(value)} is not an id")


def shown(value: Any, limit: int = 40) -> str:
    """A value for a one-line report: escaped, and cut short."""
    text = ascii(value)
    return text if len(text) <= limit else text[:limit] + "…"


def checked_text(value: str, name: str) -> str:
    """Text every store can hold: valid Unicode, without NUL (PostgreSQL cannot store it)."""
    if "\x00" in value:
        raise UnreadableDocument(f"{name} contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise UnreadableDocument(f"{name} is not valid Unicode (a lone surrogate)") from None
    return value


def read_text(doc: dict[str, Any], name: str) -> Any:
    value = doc.get(name, "")
    if value is None:
        return value  # corrected (and logged) by the record
    if isinstance(value, str):
        return checked_text(value, name)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise UnreadableDocument(f"{name}: {shown(value)} is not text")


def read_counter(doc: dict[str, Any], name: str) -> Any:
    value = doc.get(name, 0)
    if isinstance(value, Decimal):  # a fractional $numberDecimal: truncated like a float
        value = float(value)
    if isinstance(value, str):
        try:
            value = number_text(value.strip(), name)
        except UnreadableDocument:
            raise UnreadableDocument(f"{name}: {shown(value)} is not a number") from None
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        # Negative, null, fractional or NaN: clamped (and logged) by the record. Too large
        # for any store (past 2^63 - 1): reported, never silently changed.
        if value is not None and value == value and value > MAX_COUNTER:
            raise UnreadableDocument(
                f"{name}: {shown(value)} is larger than the largest counter (2^63 - 1)"
            )
        return value
    raise UnreadableDocument(f"{name}: {shown(value)} is not a number")


def read_flag(doc: dict[str, Any], name: str) -> bool:
    value = doc.get(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if value in (0, 1) and isinstance(value, int):
        return bool(value)
    raise UnreadableDocument(f"{name}: {value!r} is not true or false")


def read_ids(doc: dict[str, Any], name: str) -> tuple[str, ...]:
    value = doc.get(name)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise UnreadableDocument(f"{name}: {value!r} is not a list of ids")
    return tuple(read_id(v, name) for v in value)


def read_viewer(doc: dict[str, Any], name: str) -> str | None:
    """The person who acted: None when null, absent or "" (anonymous), else an id."""
    value = doc.get(name)
    if value is None or value == "":
        return None
    return read_id(value, name)


def read_amount(doc: dict[str, Any], name: str) -> Decimal:
    """An amount read from its text: a JSON number (parsed as a Decimal), a string, or a
    ``$numberDecimal``; finite, of at most `MAX_AMOUNT_DIGITS` digits, 10^-40 to 10^40."""
    value = required(doc, name)
    if isinstance(value, bool):
        raise UnreadableDocument(f"{name}: {shown(value)} is not an amount")
    if isinstance(value, str):
        try:
            value = Decimal(value.strip())
        except InvalidOperation:
            raise UnreadableDocument(f"{name}: {shown(value)} is not an amount") from None
    elif isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, float):
        value = Decimal(repr(value))  # a $numberDouble: its shortest text
    if not isinstance(value, Decimal):
        raise UnreadableDocument(f"{name}: {shown(value)} is not an amount")
    if not value.is_finite():
        raise UnreadableDocument(f"{name}: {shown(str(value))} is not a finite amount")
    exact = value.normalize(EXACT)
    if (
        len(exact.as_tuple().digits) > MAX_AMOUNT_DIGITS
        or exact.adjusted() > 40
        or exact.as_tuple().exponent < -40  # type: ignore[operator]
    ):
        raise UnreadableDocument(f"{name}: {shown(str(value))} is out of range for an amount")
    return value


def read_currency(doc: dict[str, Any], name: str) -> str:
    """An ISO 4217 code: three letters, upper-cased (``usd`` is ``USD``)."""
    value = required(doc, name)
    if isinstance(value, str) and len(value) == 3 and value.isascii() and value.isalpha():
        return value.upper()
    raise UnreadableDocument(f"{name}: {shown(value)} is not a three-letter currency code")


def read_day(doc: dict[str, Any], name: str) -> date:
    """A UTC calendar day: ``YYYY-MM-DD``, or a ``$date`` taken as its UTC date."""
    value = required(doc, name)
    if isinstance(value, datetime):
        return as_utc(value).date()
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise UnreadableDocument(f"{name}: {shown(value)} is not a day (YYYY-MM-DD)")
