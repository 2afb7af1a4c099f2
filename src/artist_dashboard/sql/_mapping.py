"""SQL adapter: a team's mapping, read from a TOML file and checked against the database.

A mapping file names, for each library table a team's schema holds under other names, its
table, schema and columns (the keys are `dashboard_tables`' arguments)::

    [users]
    name = "accounts"
    schema = "app"
    columns = { id = "account_id", stage_name = "display_name" }

    [post_collaborators]
    name = "media_credits"
    columns = { post_id = "media_id", user_id = "account_id", author_id = false }

``false`` maps an optional column (``author_id``) to nothing; a top-level ``id_type = "uuid"``
(or ``"integer"``) says the core tables' ids are native keys. A core table may also name
``extra_columns`` (name = type), ``derived`` keys (key = an SQL expression over its columns)
and a ``where`` condition, as `TableMap` takes them::

    [posts]
    name = "media_items"
    extra_columns = { removed = "boolean", hidden_until = "timestamp", kind = "text" }
    derived = { is_deleted = "removed OR hidden_until > now()" }

The SQL is the operator's own, as a view's definition would be. `schema_problems` then says, in
one sentence each, where a database does not match: a missing table or column, a column of a
type the store cannot read.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Connection,
    Date,
    DateTime,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    Uuid,
    inspect,
    literal_column,
    text,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType, TypeEngine

from ._schema import (
    TABLE_ROLES,
    DashboardTables,
    IntegerId,
    MappingError,
    TableMap,
    UtcDateTime,
    UuidId,
    dashboard_tables,
    tables,
)

_TABLE_FIELDS = {"name", "schema", "columns", "extra_columns", "derived", "where"}
#: The types an extra column may be given in a mapping file.
_EXTRA_TYPES: dict[str, Any] = {
    "text": Text,
    "boolean": Boolean,
    "integer": BigInteger,
    "decimal": Numeric,
    "timestamp": lambda: DateTime(timezone=True),
    "date": Date,
}


def read_mapping(path: str | Path) -> DashboardTables:
    """The tables a TOML mapping file describes; `MappingError` naming the file and the key
    for anything it cannot use."""
    file = Path(path)
    try:
        document = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MappingError(f"{file}: cannot read the mapping ({exc.strerror or exc})") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{file}: not TOML ({exc})") from None
    maps: dict[str, Any] = {}
    id_type = document.pop("id_type", "text")
    if not isinstance(id_type, str):
        raise MappingError(f'{file}: id_type must be "text", "uuid" or "integer"')
    for role, entry in document.items():
        if role not in TABLE_ROLES:
            raise MappingError(
                f"{file}: [{role}] is not a library table (they are: {', '.join(TABLE_ROLES)})"
            )
        maps[role] = _table_map(file, role, entry)
    try:
        return dashboard_tables(**maps, id_type=id_type)
    except MappingError as exc:
        raise MappingError(f"{file}: {exc}") from None


def _table_map(file: Path, role: str, entry: Any) -> TableMap:
    if not isinstance(entry, dict):
        raise MappingError(f"{file}: {role} must be a table ([{role}])")
    unknown = set(entry) - _TABLE_FIELDS
    if unknown:
        raise MappingError(
            f"{file}: [{role}] has {', '.join(sorted(unknown))}; it takes "
            f"{', '.join(sorted(_TABLE_FIELDS))}"
        )
    default_name = getattr(tables, role).name
    name, schema = entry.get("name", default_name), entry.get("schema")
    columns = entry.get("columns", {})
    if not isinstance(name, str) or not name:
        raise MappingError(f"{file}: [{role}] name must be a table name")
    if schema is not None and (not isinstance(schema, str) or not schema):
        raise MappingError(f"{file}: [{role}] schema must be a schema name")
    if not isinstance(columns, dict):
        raise MappingError(f"{file}: [{role}] columns must be a table of key = column name")
    mapped: dict[str, str | None] = {}
    for key, column in columns.items():
        if column is False:
            mapped[key] = None
        elif isinstance(column, str) and column:
            mapped[key] = column
        else:
            raise MappingError(
                f"{file}: [{role}] columns.{key} must be a column name (or false for none)"
            )
    extra = _strings(file, role, entry, "extra_columns")
    unknown_types = {k: v for k, v in extra.items() if v not in _EXTRA_TYPES}
    for key, kind in unknown_types.items():
        raise MappingError(
            f"{file}: [{role}] extra_columns.{key} is {kind!r}; the types are "
            f"{', '.join(_EXTRA_TYPES)}"
        )
    derived = {
        key: _sql_expression(sql) for key, sql in _strings(file, role, entry, "derived").items()
    }
    condition = entry.get("where")
    if condition is not None and (not isinstance(condition, str) or not condition.strip()):
        raise MappingError(f"{file}: [{role}] where must be an SQL condition")
    return TableMap(
        name,
        mapped,
        schema,
        extra_columns={k: _EXTRA_TYPES[v]() for k, v in extra.items()},
        derived=derived,
        where=_sql_condition(condition) if condition else None,
    )


def _strings(file: Path, role: str, entry: dict[str, Any], field: str) -> dict[str, str]:
    found = entry.get(field, {})
    if not isinstance(found, dict) or not all(
        isinstance(v, str) and v.strip() for v in found.values()
    ):
        raise MappingError(f'{file}: [{role}] {field} must be a table of key = "text"')
    return found


def _sql_expression(sql: str) -> Callable[[Table], ColumnElement[Any]]:
    """A derived key written as SQL over the table's own columns (the file is the operator's,
    as a view's definition would be)."""
    return lambda table: literal_column(f"({sql})")


def _sql_condition(sql: str) -> Callable[[Table], ColumnElement[bool]]:
    return lambda table: text(f"({sql})")  # type: ignore[return-value]


#: Column types by the family the store reads them as, most specific first.
_FAMILIES: tuple[tuple[type[Any], str], ...] = (
    (UuidId, "uuid"),
    (Uuid, "uuid"),
    (IntegerId, "integer"),
    (UtcDateTime, "timestamp"),
    (DateTime, "timestamp"),
    (Date, "date"),
    (Boolean, "boolean"),
    (Integer, "integer"),
    (Numeric, "decimal"),
    (String, "text"),
    (NullType, "any"),
)


def _kind(column_type: TypeEngine[Any]) -> str:
    """A column type's family, as the store reads it."""
    found = (family for kind, family in _FAMILIES if isinstance(column_type, kind))
    return next(found, str(column_type).lower())


#: What each family of the library's columns may be in the database (SQLite keeps text for
#: times and dates, and integers for flags; an earnings amount may be text or a number).
_READS = {
    "text": {"text"},
    "integer": {"integer", "decimal"},
    "decimal": {"decimal", "integer", "text"},
    "boolean": {"boolean", "integer"},
    "timestamp": {"timestamp"},
    "date": {"date"},
}
_SQLITE_TEXT = {"timestamp", "date"}
_NATIVE_IDS = ' (say the ids\' type with id_type = "uuid" or "integer": docs/sql.md)'


def schema_problems(
    conn: Connection, target: DashboardTables, tables: tuple[Table, ...] | None = None
) -> list[str]:
    """Where the database does not match `target`: each core table (and each source table that
    exists) must have every mapped column, of a type the store can read. Empty when it does."""
    inspector = inspect(conn)
    sqlite = conn.dialect.name == "sqlite"
    problems: list[str] = []
    for table in tables if tables is not None else target.core:
        shown = f"{table.schema}.{table.name}" if table.schema else table.name
        if not inspector.has_table(table.name, schema=table.schema):
            problems.append(f"table {shown} does not exist")
            continue
        found = {c["name"]: c["type"] for c in inspector.get_columns(table.name, table.schema)}
        for key, column in table.c.items():
            if column.name not in found:
                problems.append(f"{shown} has no column {column.name} (for {key})")
                continue
            wanted = _kind(column.type.dialect_impl(conn.dialect))
            there = _kind(found[column.name])
            allowed = _READS.get(wanted, {wanted})
            if sqlite and wanted in _SQLITE_TEXT:
                allowed = allowed | {"text"}
            if there not in allowed and there != "any":
                hint = _NATIVE_IDS if key == "id" or key.endswith("_id") else ""
                problems.append(
                    f"{shown}.{column.name} (for {key}) is {there}; the store reads it as "
                    f"{' or '.join(sorted(allowed))}{hint}"
                )
    return problems
