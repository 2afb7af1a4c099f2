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
