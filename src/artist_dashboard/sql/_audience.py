"""SQL adapter: the maintained audience, the SQL the triggers, `maintain` and `reconcile` share.

``artist_audience`` holds, per artist, each person who follows them or has viewed or played one
of their posts: when last seen and whether they follow. `count_non_followers` of a big artist is
then one index range count, not a distinct count over millions of events. Every statement here
recomputes a person's row from the source rows (the events of the artist's posts, the follows),
never adjusts it by a difference, so a row is right whatever happened before.

A row whose person neither follows nor has been seen is left in place (cheaper than deleting it
under concurrent writers, and a later write reuses it); `reconcile` removes those.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, Table

from ._catalog import naive_times
from ._schema import DashboardTables


class AudienceSql:
    """SQL text over the view and play tables a database has (`viewed`)."""

    def __init__(self, conn: Connection, target: DashboardTables, viewed: Sequence[Table]):
        q = conn.dialect.identifier_preparer
        self.postgres = conn.dialect.name == "postgresql"
        self.posts = q.format_table(target.posts)
        self.follows = q.format_table(target.follows)
        self.p = {c.key: q.quote(c.name) for c in target.posts.c}
        self.f = {c.key: q.quote(c.name) for c in target.follows.c}
        self.viewed = []
        for table in viewed:
            quoted = {c.key: q.quote(c.name) for c in table.c}
            seen = f"ad_e.{quoted['created_at']}"
            if self.postgres and naive_times(conn, table, "created_at"):
                seen = f"({seen} AT TIME ZONE 'UTC')"
            self.viewed.append((q.format_table(table), quoted, seen))

    @staticmethod
    def counted(user: str) -> str:
        """The person is someone (anonymous events are nobody's)."""
        return f"{user} IS NOT NULL AND {user} <> ''"

    def seen(self, artist: str, user: str) -> str:
        """When `user` last viewed or played a post of `artist`'s (NULL: never)."""
        p = self.p
        # The person's events first, then each one's post by key: a join would let the
        # planner read a big artist's every post instead.
        parts = [
            f"SELECT max({seen}) AS seen FROM {table} AS ad_e"
            f" WHERE ad_e.{e['user_id']} = {user} AND (SELECT ad_x.{p['author_id']}"
            f" FROM {self.posts} AS ad_x WHERE ad_x.{p['id']} = ad_e.{e['post_id']}) = {artist}"
            for table, e, seen in self.viewed
        ]
        return f"(SELECT max(seen) FROM ({' UNION ALL '.join(parts)}) AS ad_s)"

    def follows_now(self, artist: str, user: str) -> str:
        f = self.f
        return (
            f"EXISTS (SELECT 1 FROM {self.follows} AS ad_f"
            f" WHERE ad_f.{f['followee_id']} = {artist} AND ad_f.{f['follower_id']} = {user})"
        )

    def viewers_of(self, post: str) -> str:
        """The people with a view or play event on the post."""
        return " UNION ".join(
            f"SELECT ad_e.{e['user_id']} AS user_id FROM {table} AS ad_e"
            f" WHERE ad_e.{e['post_id']} = {post} AND {self.counted('ad_e.' + e['user_id'])}"
            for table, e, _ in self.viewed
        )

    def expected(self) -> str:
        """Every row the table should hold, recounted from the source rows."""
        p, f = self.p, self.f
        parts = [
            f"SELECT ad_x.{p['author_id']} AS artist_id, ad_e.{e['user_id']} AS user_id,"
            f" {seen} AS seen, 0 AS follows FROM {table} AS ad_e JOIN {self.posts} AS ad_x"
            f" ON ad_x.{p['id']} = ad_e.{e['post_id']}"
            f" WHERE {self.counted('ad_e.' + e['user_id'])}"
            for table, e, seen in self.viewed
        ]
        parts.append(
            f"SELECT ad_f.{f['followee_id']}, ad_f.{f['follower_id']}, NULL, 1"
            f" FROM {self.follows} AS ad_f WHERE {self.counted('ad_f.' + f['follower_id'])}"
        )
        return (
            "SELECT artist_id, user_id, max(seen) AS last_seen, max(follows) > 0 AS follower"
            f" FROM ({' UNION ALL '.join(parts)}) AS ad_z GROUP BY artist_id, user_id"
        )

    def upsert_pair(self, audience: str, artist: str, user: str) -> str:
        """(SQLite) Recompute one person's row, given as SQL expressions."""
        return (
            f"INSERT INTO {audience} (artist_id, user_id, last_seen, follower)"
            f" SELECT {artist}, {user}, {self.seen(artist, user)},"
            f" {self.follows_now(artist, user)}"
            f" WHERE {artist} IS NOT NULL AND {self.counted(user)}"
            " ON CONFLICT (artist_id, user_id) DO UPDATE"
            " SET last_seen = excluded.last_seen, follower = excluded.follower;"
        )

    def upsert_viewers(self, audience: str, artist: str, post: str, when: str = "1 = 1") -> str:
        """(SQLite) Recompute the rows of `artist` for everyone with an event on `post`."""
        return (
            f"INSERT INTO {audience} (artist_id, user_id, last_seen, follower)"
            f" SELECT {artist}, ad_v.user_id, {self.seen(artist, 'ad_v.user_id')},"
            f" {self.follows_now(artist, 'ad_v.user_id')}"
            f" FROM ({self.viewers_of(post)}) AS ad_v WHERE {artist} IS NOT NULL AND ({when})"
            " ON CONFLICT (artist_id, user_id) DO UPDATE"
            " SET last_seen = excluded.last_seen, follower = excluded.follower;"
        )


def viewer_index_name(table: Table) -> str:
    return f"ix_{table.name}_viewer"


def create_viewer_index(conn: Connection, table: Table) -> None:
    """The index `seen` reads: a person's events, with post and time, for each recompute."""
    q = conn.dialect.identifier_preparer
    columns = ", ".join(q.quote(table.c[k].name) for k in ("user_id", "post_id", "created_at"))
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {q.quote(viewer_index_name(table))}"
        f" ON {q.format_table(table)} ({columns})"
    )


def drop_viewer_index(conn: Connection, table: Table) -> None:
    q = conn.dialect.identifier_preparer
    name = q.quote(viewer_index_name(table))
    if table.schema is not None:
        name = f"{q.quote_schema(table.schema)}.{name}"
    conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
