"""SQL adapter, public face: tables, a store answering the ports in SQL, load, aggregates.

- `dashboard_tables()` describes users, posts, post collaborators and follows as SQLAlchemy
  `Table`s; `metadata` holds the default ones, ready for a team's own migrations (Alembic's
  ``target_metadata``). Pass `TableMap`s to point at an existing schema with other names, or
  `read_mapping(file)` for a TOML mapping; `schema_problems` checks a database against them.
- `SqlStore(engine)` implements `UserRepo`, `PostRepo` and `FollowRepo`, each dashboard read
  in one transaction (REPEATABLE READ on PostgreSQL).
- `load_dataset_into(engine, folder)` creates missing tables and upserts a dataset.
- `maintain(engine)` keeps per-artist figures exact with triggers; `reconcile` checks them.

Needs the ``sql`` extra (SQLAlchemy 2); PostgreSQL also needs ``postgres`` (psycopg 3). The
connections come from the caller's `Engine`; the library keeps no global state.

The modules below, lowest first: ``_schema`` (types, rule expressions, tables), ``_catalog``
(what a database holds), then ``_store``, ``_load`` and ``_aggregates``, which never import one
another; ``_database`` opens the URL the command line is given.
"""

from ._aggregates import ReconcileReport, maintain, reconcile, stop_maintaining
from ._load import LoadReport, Sources, load_dataset_into, load_records_into
from ._mapping import read_mapping, schema_problems
from ._rollup import RollupReport, rollup
from ._schema import (
    DashboardTables,
    MappingError,
    TableMap,
    UtcDateTime,
    dashboard_tables,
    metadata,
    sources_metadata,
    tables,
)
from ._store import SqlStore

__all__ = [
    "DashboardTables",
    "LoadReport",
    "MappingError",
    "ReconcileReport",
    "RollupReport",
    "Sources",
    "SqlStore",
    "TableMap",
    "UtcDateTime",
    "dashboard_tables",
    "load_dataset_into",
    "load_records_into",
    "maintain",
    "metadata",
    "read_mapping",
    "reconcile",
    "rollup",
    "schema_problems",
    "sources_metadata",
    "stop_maintaining",
    "tables",
]
