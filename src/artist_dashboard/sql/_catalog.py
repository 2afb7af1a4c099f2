"""SQL adapter: what a database holds (indexes, triggers) and the connection habits shared by all.

Above the schema, below everything that reads or writes: which indexes and library triggers
exist, and how to open a real transaction on SQLite.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Index, Table, inspect, text
from sqlalchemy.schema import CreateIndex

from ._schema import DashboardTables

#: Every trigger (and PostgreSQL trigger function) of the library's starts with this name.
TRIGGER_PREFIX = "artist_dashboard"
#: The trigger whose presence means the maintained aggregates are installed.
_MARKER_TRIGGER = f"{TRIGGER_PREFIX}_follow_insert"


def begin_sqlite(conn: Connection, *, immediate: bool = False) -> None:
    """Open SQLite's transaction now: pysqlite only begins one before a write, so reads (and
    DDL) would otherwise run outside it. `immediate` takes the database's one write lock at
    once, so what is read next cannot change before the transaction writes."""
    driver = conn.connection.driver_connection
    if driver is not None and not getattr(driver, "in_transaction", True):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def naive_times(conn: Connection, table: Table, key: str) -> bool:
    """True when the column's times carry no zone (PostgreSQL ``timestamp without time zone``,
    which the library reads as UTC); SQLite always stores naive UTC text."""
    if conn.dialect.name != "postgresql":
        return True
    query = text(
        "SELECT data_type FROM information_schema.columns WHERE table_name = :table"
        " AND column_name = :column AND table_schema = coalesce(:schema, current_schema())"
    )
    found = conn.execute(
        query, {"table": table.name, "column": table.c[key].name, "schema": table.schema}
    ).scalar()
    return found == "timestamp without time zone"


def installed(conn: Connection) -> bool:
    """True when the triggers of the maintained aggregates are in place."""
    if conn.dialect.name == "postgresql":
        query = text("SELECT 1 FROM pg_trigger WHERE tgname = :n")
    else:
        query = text("SELECT 1 FROM sqlite_master WHERE type = 'trigger' AND name = :n")
    return conn.execute(query, {"n": _MARKER_TRIGGER}).first() is not None


def library_triggers(conn: Connection) -> list[tuple[str, str]]:
    """(trigger, table) of every trigger of the library's, found by its name prefix (so those
    an older version installed under other names are found too)."""
    pattern = f"{TRIGGER_PREFIX}\\_%"
    if conn.dialect.name == "postgresql":
        query = text(
            "SELECT tgname, tgrelid::regclass::text FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgname LIKE :p ESCAPE '\\'"
        )
    else:
        query = text(
            "SELECT name, tbl_name FROM sqlite_master"
            " WHERE type = 'trigger' AND name LIKE :p ESCAPE '\\'"
        )
    return [(str(name), str(table)) for name, table in conn.execute(query, {"p": pattern})]


def drop_library_triggers(conn: Connection) -> None:
    """Drop every trigger of the library's (and, on PostgreSQL, its function)."""
    postgres = conn.dialect.name == "postgresql"
    for name, table in library_triggers(conn):
        if postgres:
            conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}" ON {table}')
            conn.exec_driver_sql(f'DROP FUNCTION IF EXISTS "{name}"()')
        else:
            conn.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')


def index_names(conn: Connection, table: Table) -> set[str]:
    """Names of the indexes that exist on `table` (SQLAlchemy cannot reflect expression
    indexes on SQLite, so the catalogs are read directly)."""
    if conn.dialect.name == "postgresql":
        query = text(
            "SELECT indexname FROM pg_indexes WHERE tablename = :table"
            " AND schemaname = coalesce(:schema, current_schema())"
        )
        rows = conn.execute(query, {"table": table.name, "schema": table.schema})
    else:
        prefix = f"{table.schema}." if table.schema else ""
        rows = conn.execute(
            text(f"SELECT name FROM {prefix}sqlite_master WHERE type = 'index' AND tbl_name = :t"),
            {"t": table.name},
        )
    return {str(name) for (name,) in rows}


def missing_indexes(conn: Connection, target: DashboardTables) -> list[Index]:
    """The declared indexes of the tables that exist, which the database lacks."""
    inspector = inspect(conn)
    missing: list[Index] = []
    for table in (*target.core, *target.events, target.daily, target.earnings):
        if not inspector.has_table(table.name, schema=table.schema):
            continue
        present = index_names(conn, table)
        missing += [
            i for i in sorted(table.indexes, key=lambda i: str(i.name)) if i.name not in present
        ]
    return missing


def index_ddl(conn: Connection, index: Index) -> str:
    """The CREATE INDEX statement for `index` on this database."""
    return str(CreateIndex(index).compile(dialect=conn.dialect))


def existing(conn: Connection, candidates: Iterable[Table]) -> list[Table]:
    """The tables among `candidates` that the database has."""
    inspector = inspect(conn)
    return [t for t in candidates if inspector.has_table(t.name, schema=t.schema)]
