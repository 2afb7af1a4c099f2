"""What the service writes to its logs: escaped request data, rate-limited repeats."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from artist_dashboard._http.service import printable
from artist_dashboard._http.serving import RateLimitedLog


@given(st.text(max_size=200))
def test_printable_text_is_one_line_of_printable_characters(text: str) -> None:
    """Whatever a request carries, what reaches the log is one line of printable text."""
    shown = printable(text)
    assert shown.isprintable()
    assert "\n" not in shown
    assert "\r" not in shown


def test_printable_escapes_rather_than_drops() -> None:
    """Control characters become visible escapes, so a forged line shows as what it is."""
    assert printable("/a\nb\r\x00") == "/a\\nb\\r\\x00"
    assert printable("x" * 600).endswith("…")


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, message, None, None)


def test_a_repeated_message_passes_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same first line passes once per interval; the next one says how many were held."""
    clock = [1000.0]
    monkeypatch.setattr("artist_dashboard._http.serving.time.monotonic", lambda: clock[0])
    limiter = RateLimitedLog(seconds=10)
    flood = [_record(f"socket.accept() out of system resource\nsocket {n}") for n in range(500)]
    assert [limiter.filter(r) for r in flood].count(True) == 1
    assert limiter.filter(_record("another message"))
    clock[0] += 11
    late = _record("socket.accept() out of system resource\nsocket x")
    assert limiter.filter(late)
    assert "499 more like this" in late.getMessage()
