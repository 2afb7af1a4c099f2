"""Core: watching builds — how long a build and each store call take, which failed, how many
stored values were corrected — for whatever measures them (Prometheus, OpenTelemetry).

`observed(repos, observer)` returns the same repos with every port call timed through the
observer; `build_dashboard` times the whole build and reports its corrections to the observer
it finds on the repos. Nothing is watched unless a caller asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import attrs

from .build import Repos
from .ports import Observer

#: The `Repos` fields that hold ports, by the name their operations carry.
PORT_FIELDS = ("users", "posts", "follows", "days", "audience", "revenue", "whole")


class _TimedPort:
    """A port whose every method call is timed as ``"<port>.<method>"``."""

    def __init__(self, name: str, port: object, observer: Observer) -> None:
        self._name = name
        self._port = port
        self._observer = observer

    def __getattr__(self, method: str) -> Any:
        found = getattr(self._port, method)
        if method.startswith("_") or not callable(found):
            return found
        operation, observer = f"{self._name}.{method}", self._observer

        def timed(*args: Any, **kwargs: Any) -> Any:
            with observer.timed(operation):
                return found(*args, **kwargs)

        setattr(self, method, timed)  # made once per port and method, then found directly
        return timed


def observed(repos: Repos, observer: Observer) -> Repos:
    """`repos` with every port call (in or out of a snapshot) timed through `observer`, which
    `build_dashboard` also tells about whole builds and corrections."""
    ports: dict[str, Any] = {
        name: _TimedPort(name, port, observer)
        for name in PORT_FIELDS
        if (port := getattr(repos, name)) is not None
    }
    opened = repos.open_snapshot
    snapshot: Callable[[], AbstractContextManager[Repos]] | None = None
    if opened is not None:

        @contextmanager
        def snapshot() -> Iterator[Repos]:
            with opened() as inside:
                yield observed(inside, observer)

    return attrs.evolve(repos, open_snapshot=snapshot, observer=observer, **ports)
