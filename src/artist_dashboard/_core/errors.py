"""Core: the errors the library raises on purpose, and how a cause is shown safely."""

from __future__ import annotations


class DashboardError(Exception):
    """Base of every error the library raises on purpose."""


class UserNotFound(DashboardError):
    """The user id names no user."""

    def __init__(self, user_id: str) -> None:
        super().__init__(f"no user with id {user_id!r}")
        self.user_id = user_id


class StorageError(DashboardError):
    """A store failed (unreachable, broken, timed out); the build was abandoned whole."""


class InvalidOptions(DashboardError, ValueError):
    """An option is out of its documented range."""


def first_line(error: BaseException | None) -> str:
    """What went wrong, for the operator at a command line: the first line of the underlying
    (driver's) message.

    Database drivers and SQLAlchemy append the SQL statement and its parameters on later lines;
    those never leave this function. A server log uses `storage_reason` instead.
    """
    if error is None:
        return ""
    original = getattr(error, "orig", None) or error
    text = str(original).strip().splitlines()
    return text[0] if text else type(original).__name__


def storage_reason(error: BaseException | None) -> str:
    """What a storage failure was, safe for a server log: the exception's kind and, for a
    database server's error, its SQLSTATE — never the message, which can quote the
    statement's parameters (an id from the request, say)."""
    if error is None:
        return "no cause"
    original = getattr(error, "orig", None) or error
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    kind = type(original).__name__
    return f"{kind} (SQLSTATE {code})" if code else kind
