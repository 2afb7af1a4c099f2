"""Command line: opening the database a command is pointed at, with one-line errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .._core.errors import DashboardError, first_line

if TYPE_CHECKING:
    from sqlalchemy import URL, Engine

#: Where `load` writes and `build` reads when neither --db nor $ARTIST_DASHBOARD_DB is given.
DEFAULT_DATABASE = "sqlite:///artist-dashboard.sqlite3"
DATABASE_VARIABLE = "ARTIST_DASHBOARD_DB"


def database_url(target: str | None) -> URL:
    """The URL `target` names (a bare path is a SQLite file), or the default database."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    target = target or os.environ.get(DATABASE_VARIABLE) or DEFAULT_DATABASE
    if "://" not in target:
        target = f"sqlite:///{Path(target).expanduser()}"
    try:
        return make_url(target)
    except ArgumentError:
        raise DashboardError(f"{target!r} is not a database URL") from None


def open_database(target: str | None, *, create: bool, read_only: bool = False) -> Engine:
    """An `Engine` for `target` that has been connected to once.

    `create` allows a SQLite file that does not exist yet (for `load`); `read_only` opens a
    SQLite file so that nothing can write it or create it anew (for `build` and `serve`).
    Errors name the database with its password hidden; the engine never puts statement
    parameters into an error's text.
    """
    try:
        from sqlalchemy import create_engine
        from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError
    except ImportError:
        raise DashboardError(
            "--db needs the sql extra: pip install 'artist-dashboard[sql]'"
        ) from None

    url = database_url(target)
    shown = url.render_as_string(hide_password=True)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not create and not Path(file).is_file():
        raise DashboardError(f"cannot open database {shown}: no such file")
    if file and file != ":memory:" and read_only:
        url = url.set(database=f"file:{Path(file).resolve()}", query={"mode": "ro", "uri": "true"})
    try:
        engine = create_engine(url, hide_parameters=True)
        with engine.connect() as conn:
            # SQLite opens any file lazily; reading its catalogue proves it is a database.
            probe = "SELECT count(*) FROM sqlite_master" if file else "SELECT 1"
            conn.exec_driver_sql(probe)
    except (NoSuchModuleError, ImportError):
        raise DashboardError(
            f"cannot open database {shown}: no driver for {url.drivername!r} "
            "(PostgreSQL needs pip install 'artist-dashboard[postgres]')"
        ) from None
    except SQLAlchemyError as exc:
        reason = first_line(exc)
        if url.password:
            reason = reason.replace(str(url.password), "***")
        raise DashboardError(f"cannot open database {shown}: {reason}") from None
    return engine
