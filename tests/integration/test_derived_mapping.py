"""What a view used to say, in the mapping: a derived liveness rule, a translated value, a
filter on the credits — read through the team's own tables and indexes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("sqlalchemy", reason="the sql extra is not installed")

from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    Text,
    case,
    create_engine,
    func,
    insert,
    or_,
)

from artist_dashboard import FixedClock, build_dashboard
from artist_dashboard.sql import (
    MappingError,
    SqlStore,
    TableMap,
    dashboard_tables,
    load_records_into,
    maintain,
)

from ..helpers import assert_no_table_scanned, fresh_postgres_database

#: The team's own words for post types, and the app's.
KINDS = {"track": "audio", "clip": "video", "photo": "image", "note": "text"}
NOW = datetime.now(UTC).replace(microsecond=0)


def team_tables(id_type: str = "text") -> Any:
    """Posts live unless ``removed`` or hidden until later; ``kind`` in the team's words;
    only ``feature`` credits are collaborations."""
    return dashboard_tables(
        id_type=id_type,
        posts=TableMap(
            "media_items",
            {"author_id": "owner_id"},
            extra_columns={
                "removed": Boolean(),
                "hidden_until": DateTime(timezone=True),
                "kind": Text(),
            },
            derived={
                "is_deleted": lambda t: or_(t.c.removed, t.c.hidden_until > func.now()),
                "post_type": lambda t: case(KINDS, value=t.c.kind, else_=t.c.kind),
            },
        ),
        post_collaborators=TableMap(
            "media_credits",
            {"post_id": "media_id", "user_id": "account_id", "author_id": None},
            extra_columns={"role": Text()},
            where=lambda t: t.c.role == "feature",
        ),
    )


@pytest.fixture
def postgres(postgres_admin_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A fresh PostgreSQL database for one test."""
    name = f"derived_{tmp_path.name[-20:].replace('-', '_').lower()}"
    with fresh_postgres_database(postgres_admin_url, name) as made:
        yield made


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'team.db'}")
        yield made
        made.dispose()
        return
    yield request.getfixturevalue("postgres")


def fill(engine: Engine, target: Any, key: Any = str) -> None:
    """The team's posts (ids passed through `key`)."""
    target.metadata.create_all(engine)
    day = timedelta(days=1)
    posts = [
        # id, removed, hidden until, kind, likes
        ("live-track", False, None, "track", 30),
        ("removed", True, None, "clip", 90),
        ("hidden", False, NOW + day, "photo", 80),
        ("unhidden", False, NOW - day, "note", 20),
        ("odd-kind", None, None, "live", 10),
    ]
    with engine.begin() as conn:
        conn.execute(insert(target.users), [{"id": key(u), "name": u} for u in ("a", "b", "c")])
        conn.execute(
            insert(target.posts),
            [
                {
                    "id": key(post_id),
                    "author_id": key("a"),
                    "created_at": NOW - 2 * day,
                    "removed": removed,
                    "hidden_until": hidden,
                    "kind": kind,
                    "likes_count": likes,
                }
                for post_id, removed, hidden, kind, likes in posts
            ],
        )
        conn.execute(
            insert(target.post_collaborators),
            [
                {"post_id": key("live-track"), "user_id": key("b"), "role": "feature"},
                {"post_id": key("unhidden"), "user_id": key("c"), "role": "producer"},
            ],
        )


def test_liveness_translation_and_credit_filter_come_from_the_mapping(engine: Engine) -> None:
    """Removed and still-hidden posts do not count; a post hidden until yesterday does; kinds
    reach the app as its postType values (unknown ones as they are); a producer credit is no
    collaboration, a feature credit is."""
    target = team_tables()
    fill(engine, target)
    repos = SqlStore(engine, target).repos
    artist = build_dashboard("a", repos, FixedClock(NOW))
    assert artist.stats.posts_count == 3
    assert artist.stats.likes_count == 60
    assert [(p.id, p.post_type) for p in artist.top_content] == [
        ("live-track", "audio"),
        ("unhidden", "text"),
        ("odd-kind", "live"),
    ]
    assert artist.stats.collaborations_count == 1
    assert build_dashboard("b", repos, FixedClock(NOW)).stats.collaborations_count == 1
    assert build_dashboard("c", repos, FixedClock(NOW)).stats.collaborations_count == 0


@pytest.mark.postgres
def test_the_derived_reads_still_use_the_teams_indexes(postgres: Engine) -> None:
    """Through the mapping's queries, every statement of a build can still be answered from
    the tables' indexes (PostgreSQL, sequential scans switched off)."""
    target = team_tables()
    fill(postgres, target)
    store = SqlStore(postgres, target)
    assert_no_table_scanned(postgres, lambda: build_dashboard("a", store.repos, FixedClock(NOW)))


def test_a_wrong_derived_mapping_is_named_at_once(tmp_path: Path) -> None:
    """An unknown derived key, a derived id, a key both mapped and derived, an expression over
    a column the table lacks, and anything that writes or maintains such tables are refused
    with the key named."""
    with pytest.raises(MappingError, match="did you mean 'is_deleted'"):
        dashboard_tables(posts=TableMap("p", derived={"is_delted": lambda t: t.c.x}))
    with pytest.raises(MappingError, match="ids cannot be derived"):
        dashboard_tables(posts=TableMap("p", derived={"author_id": lambda t: t.c.owner}))
    with pytest.raises(MappingError, match="both mapped and derived"):
        dashboard_tables(
            posts=TableMap("p", {"content": "body"}, derived={"content": lambda t: t.c.body})
        )
    with pytest.raises(MappingError, match="derived 'is_deleted' cannot be made"):
        dashboard_tables(posts=TableMap("p", derived={"is_deleted": lambda t: t.c.removed}))
    engine = create_engine(f"sqlite:///{tmp_path / 'team.db'}")
    with pytest.raises(MappingError, match="loading needs tables read as they are"):
        load_records_into(engine, target=team_tables())
    with pytest.raises(MappingError, match="maintained aggregates needs tables read as they are"):
        maintain(engine, team_tables())


@pytest.mark.postgres
def test_the_adoption_teams_schema_needs_no_view(postgres: Engine) -> None:
    """uuid keys together with the derived liveness, the translated kinds and the credit
    filter: the figures come out right from the team's tables as they are."""
    import uuid

    def key(name: str) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, name))

    target = team_tables("uuid")
    fill(postgres, target, key)
    repos = SqlStore(postgres, target).repos
    artist = build_dashboard(key("a"), repos, FixedClock(NOW))
    assert artist.stats.posts_count == 3
    assert artist.stats.collaborations_count == 1
    assert {p.post_type for p in artist.top_content} == {"audio", "text", "live"}
    assert artist.top_content[0].id == key("live-track")


TEAM_FILE = """
[posts]
name = "media_items"
columns = { author_id = "owner_id" }
extra_columns = { removed = "boolean", hidden_until = "timestamp", kind = "text" }
derived = { is_deleted = "removed OR hidden_until > CURRENT_TIMESTAMP", post_type = \"\"\"
  CASE kind WHEN 'track' THEN 'audio' WHEN 'clip' THEN 'video' WHEN 'photo' THEN 'image'
  WHEN 'note' THEN 'text' ELSE kind END\"\"\" }

[post_collaborators]
name = "media_credits"
columns = { post_id = "media_id", user_id = "account_id", author_id = false }
extra_columns = { role = "text" }
where = "role = 'feature'"
"""


def test_a_mapping_file_says_the_same_in_sql(engine: Engine, tmp_path: Path) -> None:
    """The same mapping written as a TOML file, its expressions in SQL, gives the same figures
    as the one written with SQLAlchemy expressions."""
    from artist_dashboard.sql import read_mapping

    fill(engine, team_tables())
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(TEAM_FILE)
    from_file = SqlStore(engine, read_mapping(mapping)).repos
    from_code = SqlStore(engine, team_tables()).repos
    for user in ("a", "b", "c"):
        got = build_dashboard(user, from_file, FixedClock(NOW))
        assert got == build_dashboard(user, from_code, FixedClock(NOW))
    assert build_dashboard("a", from_file, FixedClock(NOW)).stats.posts_count == 3
