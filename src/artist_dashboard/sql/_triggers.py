"""SQL adapter: the trigger programs that keep the maintained aggregates exact.

Two programs, one per database, generated from the same rule constructs as the live queries
(`clamped`, `live_post`, `credit_pairs`), so the maintained figures cannot disagree with them.

**PostgreSQL** — many writers at once. A trigger on a row never waits and never locks: it
appends what the row changed (the author's post count and sums, a follower, a follow day, or
"this post's credits may have changed") to ``artist_pending``, tagged with the transaction.
One deferred constraint trigger settles the whole transaction at COMMIT: it locks the touched
posts' guard rows in post-id order, recomputes those posts' collaboration credits from what is
committed now, then adds every delta to ``artist_stats`` and ``artist_follow_days`` in key
order. So the figures are exact under any interleaving (a post's credits are settled by one
transaction at a time, each seeing the others' committed work), and the locks are taken only
at commit, all in one global order, by transactions that take no other lock afterwards — which
is why the triggers cannot deadlock. Under REPEATABLE READ or SERIALIZABLE a conflicting
settle fails with a serialization error, as any counter does, and the application retries.

**SQLite** — one writer at a time, so each trigger applies its change at once. ``INSERT OR
REPLACE`` deletes a conflicting row without firing delete triggers, so a BEFORE INSERT trigger
keeps the row about to be replaced in a stash that the AFTER INSERT trigger takes out; trigger
bodies use the upsert clause, which an outer statement's conflict policy does not override.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from attrs import frozen
from sqlalchemy import Connection, Table, literal_column, select
from sqlalchemy.sql.elements import ColumnElement

from .._core import rules
from ._audience import AudienceSql
from ._catalog import TRIGGER_PREFIX, naive_times
from ._schema import DashboardTables, clamped, credit_pairs, live_post

#: Per-user delta columns of ``artist_pending`` and ``artist_stats`` from posts and follows
#: (collaborations come from the settled credits).
_POST_FIGURES = ("posts", *rules.POST_COUNTERS)
_FOLLOW_FIGURES = ("followers", "following")
#: The columns of a row that SQLite's stash keeps, by table (named by the library's keys).
STASHED = {
    "posts": ("id", "author_id", "is_deleted", "created_at", *rules.POST_COUNTERS),
    "follows": ("follower_id", "followee_id", "created_at"),
}


@frozen
class Aux:
    """The library's own tables that the triggers keep."""

    stats: Table
    days: Table
    credits: Table
    pending: Table | None = None  # PostgreSQL
    guard: Table | None = None  # PostgreSQL
    settle: Table | None = None  # PostgreSQL
    stash_posts: Table | None = None  # SQLite
    stash_follows: Table | None = None  # SQLite
    #: The view and play tables the audience is kept from (none: no audience).
    viewed: tuple[Table, ...] = ()
    viewed_kinds: tuple[str, ...] = ()  # "view", "play": names the triggers
    audience: Table | None = None
    stash_viewed: tuple[Table, ...] = ()  # SQLite, one per table of `viewed`


class Fragments:
    """Quoted names and rule fragments for one database, for trigger bodies written as text."""

    def __init__(self, conn: Connection, target: DashboardTables, aux: Aux) -> None:
        self.dialect = conn.dialect
        q = conn.dialect.identifier_preparer
        self.target, self.aux = target, aux
        self.name = {
            "posts": q.format_table(target.posts),
            "pc": q.format_table(target.post_collaborators),
            "follows": q.format_table(target.follows),
        }
        for field in attrs.fields(Aux):
            table = getattr(aux, field.name)
            if isinstance(table, Table):
                self.name[field.name] = q.format_table(table)
        self.naive_follow_times = naive_times(conn, target.follows, "created_at")
        self.p = {c.key: q.quote(c.name) for c in target.posts.c}
        self.c = {c.key: q.quote(c.name) for c in target.post_collaborators.c}
        self.f = {c.key: q.quote(c.name) for c in target.follows.c}
        self.knows_author = "author_id" in target.post_collaborators.c

    def render(self, element: Any) -> str:
        compiled = element.compile(dialect=self.dialect, compile_kwargs={"literal_binds": True})
        return str(compiled)

    def clamp(self, row: str, key: str) -> str:
        return self.render(clamped(literal_column(f"{row}.{self.p[key]}")))

    def live(self, row: str) -> str:
        deleted: ColumnElement[Any] = literal_column(f"{row}.{self.p['is_deleted']}")
        created: ColumnElement[Any] = literal_column(f"{row}.{self.p['created_at']}")
        return f"({self.render(live_post(deleted, created))})"

    def day(self, created_at: str) -> str:
        return utc_day(self.dialect.name, created_at, naive=self.naive_follow_times)

    def pairs(self, which_posts: Callable[[ColumnElement[Any]], ColumnElement[bool]]) -> str:
        return self.render(credit_pairs(self.target, which_posts))

    def post_changed(self) -> str:
        """An update of a post that can change a figure (not a caption edit)."""
        keys = ("id", "author_id", "is_deleted", "created_at", *rules.POST_COUNTERS)
        return " OR ".join(f"OLD.{self.p[k]} IS DISTINCT FROM NEW.{self.p[k]}" for k in keys)

    def handed_over(self) -> str:
        """An update of a post that changes whose its events are."""
        keys = ("id", "author_id")
        return " OR ".join(f"OLD.{self.p[k]} IS DISTINCT FROM NEW.{self.p[k]}" for k in keys)

    def moved(self) -> str:
        """An update of a post that can change its collaboration credits."""
        keys = ("id", "author_id")
        changed = [f"OLD.{self.p[k]} IS DISTINCT FROM NEW.{self.p[k]}" for k in keys]
        return " OR ".join([*changed, f"{self.live('OLD')} IS DISTINCT FROM {self.live('NEW')}"])


def utc_day(dialect: str, created_at: str, *, naive: bool) -> str:
    """SQL for the UTC day (YYYY-MM-DD) of a stored follow time: SQLite keeps naive UTC text;
    on PostgreSQL a ``timestamptz`` is first put in UTC, whatever the session's zone."""
    if dialect != "postgresql":
        return f"substr({created_at}, 1, 10)"
    utc = created_at if naive else f"({created_at} AT TIME ZONE 'UTC')"
    return f"to_char({utc}, 'YYYY-MM-DD')"


def trigger_name(name: str) -> str:
    return f"{TRIGGER_PREFIX}_{name}"


# --- PostgreSQL ----------------------------------------------------------------------------

_XID = "txid_current()"


def postgres_program(conn: Connection, target: DashboardTables, aux: Aux) -> list[str]:
    """The functions and triggers, as DDL statements in the order to run them."""
    s = Fragments(conn, target, aux)
    n, p, c, f = s.name, s.p, s.c, s.f
    figures = [*_POST_FIGURES, *_FOLLOW_FIGURES, "collaborations"]

    def pending(source: str, **values: str) -> str:
        columns = ", ".join(["xid", "source", *values])
        return (
            f"INSERT INTO {n['pending']} ({columns})"
            f" VALUES ({_XID}, '{source}', {', '.join(values.values())});"
        )

    def post_figures(row: str, sign: str) -> str:
        values = {"user_id": f"{row}.{p['author_id']}", "posts": f"{sign}1"}
        values |= {k: f"{sign}{s.clamp(row, k)}" for k in rules.POST_COUNTERS}
        return f"IF {s.live(row)} THEN {pending('p', **values)} END IF;"

    def touched(row: str, key: str) -> str:
        return pending("c", post_id=f"{row}.{key}")

    audience = AudienceSql(conn, target, aux.viewed) if aux.audience is not None else None

    def viewers(row: str) -> list[str]:
        """The post's viewers may now count for another artist, or for none: those there are
        now (events this transaction deletes later included), and those the settle finds."""
        if audience is None:
            return []
        author, post = f"{row}.{p['author_id']}", f"{row}.{p['id']}"
        return [
            f"INSERT INTO {n['pending']} (xid, source, user_id, viewer_id)"
            f" SELECT {_XID}, 'a', {author}, v.user_id FROM ({audience.viewers_of(post)}) AS v;",
            pending("w", user_id=author, post_id=post),
        ]

    def follow_figures(row: str, sign: str) -> list[str]:
        created = f"{row}.{f['created_at']}"
        pair = {"user_id": f"{row}.{f['followee_id']}", "viewer_id": f"{row}.{f['follower_id']}"}
        return [
            *([pending("a", **pair)] if audience is not None else []),
            pending("f", user_id=f"{row}.{f['followee_id']}", followers=f"{sign}1"),
            pending("f", user_id=f"{row}.{f['follower_id']}", following=f"{sign}1"),
            f"IF {created} IS NOT NULL THEN "
            + pending(
                "f", user_id=f"{row}.{f['followee_id']}", day=s.day(created), follows=f"{sign}1"
            )
            + " END IF;",
        ]

    # Registers the transaction for settling once (the setting lives until its end).
    mark = (
        f"IF current_setting('artist_dashboard.settle', true) IS DISTINCT FROM {_XID}::text THEN"
        f" INSERT INTO {n['settle']} (xid) VALUES ({_XID}) ON CONFLICT DO NOTHING;"
        f" PERFORM set_config('artist_dashboard.settle', {_XID}::text, true); END IF;"
    )
    # name -> (timing/events, table, WHEN condition, body statements)
    row_triggers: dict[str, tuple[str, str, str | None, list[str]]] = {
        "post_insert": (
            "AFTER INSERT",
            n["posts"],
            None,
            [mark, post_figures("NEW", "+"), touched("NEW", p["id"]), *viewers("NEW")],
        ),
        "post_update": (
            "AFTER UPDATE",
            n["posts"],
            s.post_changed(),
            [
                mark,
                post_figures("OLD", "-"),
                post_figures("NEW", "+"),
                f"IF {s.moved()} THEN {touched('OLD', p['id'])} {touched('NEW', p['id'])} END IF;",
                *(
                    [
                        f"IF {s.handed_over()} THEN {' '.join(viewers('OLD') + viewers('NEW'))}"
                        " END IF;"
                    ]
                    if audience is not None
                    else []
                ),
            ],
        ),
        "post_delete": (
            "AFTER DELETE",
            n["posts"],
            None,
            [mark, post_figures("OLD", "-"), touched("OLD", p["id"]), *viewers("OLD")],
        ),
        "collaborator_insert": (
            "AFTER INSERT",
            n["pc"],
            None,
            [mark, touched("NEW", c["post_id"])],
        ),
        "collaborator_delete": (
            "AFTER DELETE",
            n["pc"],
            None,
            [mark, touched("OLD", c["post_id"])],
        ),
        # Every update, even one that changes nothing: a writer that holds a collaborator row
        # makes other settles skip it (`author_copy_repair`), so its own settle must check it.
        "collaborator_update": (
            "AFTER UPDATE",
            n["pc"],
            None,
            [mark, touched("OLD", c["post_id"]), touched("NEW", c["post_id"])],
        ),
        "follow_insert": ("AFTER INSERT", n["follows"], None, [mark, *follow_figures("NEW", "+")]),
        "follow_delete": ("AFTER DELETE", n["follows"], None, [mark, *follow_figures("OLD", "-")]),
        "follow_update": (
            "AFTER UPDATE",
            n["follows"],
            " OR ".join(
                f"OLD.{f[k]} IS DISTINCT FROM NEW.{f[k]}"
                for k in ("follower_id", "followee_id", "created_at")
            ),
            [mark, *follow_figures("OLD", "-"), *follow_figures("NEW", "+")],
        ),
    }
    for kind, events_table in zip(aux.viewed_kinds, aux.viewed, strict=True):
        e = {col.key: conn.dialect.identifier_preparer.quote(col.name) for col in events_table.c}
        name = conn.dialect.identifier_preparer.format_table(events_table)

        def seen(row: str, e: dict[str, str] = e) -> str:
            post = f"{row}.{e['post_id']}"
            # The author now, and (at the settle) the author then: the post may change hands
            # or go in between.
            author = f"(SELECT {p['author_id']} FROM {n['posts']} WHERE {p['id']} = {post})"
            return pending("e", post_id=post, viewer_id=f"{row}.{e['user_id']}", user_id=author)

        def counted(row: str, e: dict[str, str] = e) -> str:
            return AudienceSql.counted(f"{row}.{e['user_id']}")

        row_triggers[f"{kind}_insert"] = ("AFTER INSERT", name, counted("NEW"), [mark, seen("NEW")])
        row_triggers[f"{kind}_delete"] = ("AFTER DELETE", name, counted("OLD"), [mark, seen("OLD")])
        row_triggers[f"{kind}_update"] = (
            "AFTER UPDATE",
            name,
            " OR ".join(
                f"OLD.{e[k]} IS DISTINCT FROM NEW.{e[k]}"
                for k in ("post_id", "user_id", "created_at")
            ),
            [
                mark,
                f"IF {counted('OLD')} THEN {seen('OLD')} END IF;",
                f"IF {counted('NEW')} THEN {seen('NEW')} END IF;",
            ],
        )
    ddl: list[str] = []
    for short, (events, table, when, body) in row_triggers.items():
        name = trigger_name(short)
        ddl += _pg_function(name, body, returns="NULL")
        condition = f" WHEN ({when})" if when else ""
        ddl.append(
            f"CREATE TRIGGER {name} {events} ON {table} FOR EACH ROW{condition}"
            f" EXECUTE FUNCTION {name}()"
        )

    pending_table = aux.pending
    assert pending_table is not None
    mine = f"{n['pending']}.xid = {_XID}"
    touched_posts = select(pending_table.c.post_id).where(
        literal_column(mine), pending_table.c.source == "c"
    )
    now_pairs = s.pairs(lambda post_id: post_id.in_(touched_posts))
    sums = ", ".join(f"sum({k})" for k in figures)
    nonzero = " OR ".join(f"sum({k}) <> 0" for k in figures)
    settle = [
        # 1. The posts whose credits may have changed, guarded one transaction at a time,
        #    in post-id order.
        f"INSERT INTO {n['guard']} AS g (post_id) SELECT DISTINCT post_id FROM {n['pending']}"
        f" WHERE {mine} AND post_id IS NOT NULL ORDER BY post_id"
        " ON CONFLICT (post_id) DO UPDATE SET settled = g.settled + 1;",
        # 2. Their credits now (committed work of others included) against those counted.
        f"WITH now_ AS ({now_pairs}),"
        f" was AS (SELECT post_id, user_id FROM {n['credits']} WHERE post_id IN"
        f" (SELECT post_id FROM {n['pending']} WHERE {mine} AND source = 'c')),"
        " gained AS (SELECT post_id, user_id FROM now_ EXCEPT SELECT post_id, user_id FROM was),"
        " lost AS (SELECT post_id, user_id FROM was EXCEPT SELECT post_id, user_id FROM now_),"
        f" dropped AS (DELETE FROM {n['credits']} AS k USING lost"
        " WHERE k.post_id = lost.post_id AND k.user_id = lost.user_id RETURNING k.user_id),"
        f" added AS (INSERT INTO {n['credits']} (post_id, user_id)"
        " SELECT post_id, user_id FROM gained RETURNING user_id)"
        f" INSERT INTO {n['pending']} (xid, source, user_id, collaborations)"
        f" SELECT {_XID}, 'c', user_id, sum(delta) FROM (SELECT user_id, 1 AS delta FROM added"
        " UNION ALL SELECT user_id, -1 FROM dropped) AS changes GROUP BY user_id;",
        *(
            [
                author_copy_repair(
                    s, f"SELECT post_id FROM {n['pending']} WHERE {mine} AND source = 'c'"
                )
                + ";"
            ]
            if s.knows_author
            else []
        ),
        *(_settle_audience(s, audience, mine) if audience is not None else []),
        # 3. Every user's figures, in user order.
        f"INSERT INTO {n['stats']} AS s (user_id, {', '.join(figures)})"
        f" SELECT user_id, {sums} FROM {n['pending']}"
        f" WHERE {mine} AND source IN ('p', 'c', 'f') AND user_id IS NOT NULL AND day IS NULL"
        f" GROUP BY user_id HAVING {nonzero} ORDER BY user_id"
        " ON CONFLICT (user_id) DO UPDATE SET "
        + ", ".join(f"{k} = s.{k} + EXCLUDED.{k}" for k in figures)
        + ";",
        # 4. New follows per day, in (user, day) order.
        f"INSERT INTO {n['days']} AS d (user_id, day, follows)"
        f" SELECT user_id, day, sum(follows) FROM {n['pending']}"
        f" WHERE {mine} AND day IS NOT NULL GROUP BY user_id, day HAVING sum(follows) <> 0"
        " ORDER BY user_id, day"
        " ON CONFLICT (user_id, day) DO UPDATE SET follows = d.follows + EXCLUDED.follows;",
        f"DELETE FROM {n['pending']} WHERE {mine};",
        f"DELETE FROM {n['settle']} WHERE xid = {_XID};",
    ]
    settle_name = trigger_name("settle")
    ddl += _pg_function(settle_name, settle, returns="NULL")
    ddl.append(
        f"CREATE CONSTRAINT TRIGGER {settle_name} AFTER INSERT ON {n['settle']}"
        f" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {settle_name}()"
    )

    # TRUNCATE removes every row at once, without row triggers: the figures drawn from that
    # table become zero, and this transaction's pending changes to it are void.
    def zero(columns: tuple[str, ...]) -> str:
        sets = ", ".join(f"{k} = 0" for k in columns)
        nonzero_row = " OR ".join(f"{k} <> 0" for k in columns)
        return (
            f"UPDATE {n['stats']} SET {sets} WHERE user_id IN (SELECT user_id FROM {n['stats']}"
            f" WHERE {nonzero_row} ORDER BY user_id FOR UPDATE);"
        )

    truncates = {
        "posts_truncate": (
            n["posts"],
            [
                f"DELETE FROM {n['pending']} WHERE {mine} AND source IN ('p', 'c');",
                zero((*_POST_FIGURES, "collaborations")),
                f"DELETE FROM {n['credits']};",
            ],
        ),
        "collaborators_truncate": (
            n["pc"],
            [
                f"DELETE FROM {n['pending']} WHERE {mine} AND source = 'c';",
                zero(("collaborations",)),
                f"DELETE FROM {n['credits']};",
            ],
        ),
        "follows_truncate": (
            n["follows"],
            [
                f"DELETE FROM {n['pending']} WHERE {mine} AND source = 'f';",
                zero(_FOLLOW_FIGURES),
                f"DELETE FROM {n['days']};",
            ],
        ),
    }
    if audience is not None:
        truncates["posts_truncate"][1].append(
            f"UPDATE {n['audience']} SET last_seen = NULL WHERE last_seen IS NOT NULL;"
        )
        truncates["follows_truncate"][1].append(
            f"UPDATE {n['audience']} SET follower = false WHERE follower;"
        )
        for kind, events_table in zip(aux.viewed_kinds, aux.viewed, strict=True):
            truncates[f"{kind}_truncate"] = (
                conn.dialect.identifier_preparer.format_table(events_table),
                [
                    f"UPDATE {n['audience']} AS a"
                    f" SET last_seen = {audience.seen('a.artist_id', 'a.user_id')}"
                    " WHERE a.last_seen IS NOT NULL;",
                ],
            )
    for short, (table, body) in truncates.items():
        name = trigger_name(short)
        ddl += _pg_function(name, body, returns="NULL")
        ddl.append(f"CREATE TRIGGER {name} AFTER TRUNCATE ON {table} EXECUTE FUNCTION {name}()")
    return ddl


def _settle_audience(s: Fragments, audience: AudienceSql, mine: str) -> list[str]:
    """The settle's audience steps: the people whose rows this transaction may have changed,
    their rows locked in key order, then recomputed from what is committed now."""
    n, p = s.name, s.p
    mine_k = f"k.xid = {_XID}"
    pairs = [
        # An event's viewer, for the author of its post as the guard rows leave it...
        f"SELECT x.{p['author_id']} AS artist, k.viewer_id AS viewer FROM {n['pending']} AS k"
        f" JOIN {n['posts']} AS x ON x.{p['id']} = k.post_id WHERE {mine_k} AND k.source = 'e'",
        # ...and as it was when the event was written.
        f"SELECT user_id, viewer_id FROM {n['pending']} WHERE {mine} AND source = 'e'",
        # A post's viewers, for its author before and after the change.
        f"SELECT k.user_id, v.user_id FROM {n['pending']} AS k"
        f" JOIN LATERAL ({audience.viewers_of('k.post_id')}) AS v ON true"
        f" WHERE {mine_k} AND k.source = 'w'",
        # A follower.
        f"SELECT user_id, viewer_id FROM {n['pending']} WHERE {mine} AND source = 'a'",
    ]
    return [
        f"INSERT INTO {n['pending']} (xid, source, user_id, viewer_id)"
        f" SELECT DISTINCT {_XID}, 'v', artist, viewer FROM ({' UNION ALL '.join(pairs)})"
        " AS pairs (artist, viewer) WHERE artist IS NOT NULL AND viewer IS NOT NULL;",
        f"INSERT INTO {n['audience']} AS a (artist_id, user_id, follower)"
        f" SELECT user_id, viewer_id, false FROM {n['pending']} WHERE {mine} AND source = 'v'"
        " ORDER BY user_id, viewer_id"
        " ON CONFLICT (artist_id, user_id) DO UPDATE SET follower = a.follower;",
        f"UPDATE {n['audience']} AS a SET last_seen = {audience.seen('a.artist_id', 'a.user_id')},"
        f" follower = {audience.follows_now('a.artist_id', 'a.user_id')}"
        f" FROM {n['pending']} AS k WHERE {mine_k} AND k.source = 'v'"
        " AND a.artist_id = k.user_id AND a.user_id = k.viewer_id;",
    ]


def author_copy_repair(s: Fragments, which_posts: str | None = None) -> str:
    """An UPDATE that brings ``post_collaborators.author_id`` in line with the post's author
    (for the posts in `which_posts`, or all).

    On PostgreSQL it skips rows another writer holds rather than wait (that writer may wait on
    this one): a writer that inserted, updated or deleted the row settles its post at its own
    commit and repairs it then. A row only locked (``SELECT … FOR UPDATE``) and left unchanged
    keeps its old copy until `reconcile` repairs it.
    """
    n, p, c = s.name, s.p, s.c
    current = (
        f"(SELECT {p['author_id']} FROM {n['posts']} WHERE {p['id']} = {n['pc']}.{c['post_id']})"
    )
    different = "IS DISTINCT FROM" if s.dialect.name == "postgresql" else "IS NOT"
    # A collaborator row whose post is gone has no author to copy.
    stale = f"{n['pc']}.{c['author_id']} {different} {current} AND {current} IS NOT NULL"
    if which_posts is not None:
        stale += f" AND {n['pc']}.{c['post_id']} IN ({which_posts})"
    if s.dialect.name == "postgresql":
        stale = f"ctid IN (SELECT ctid FROM {n['pc']} WHERE {stale} FOR UPDATE SKIP LOCKED)"
    return f"UPDATE {n['pc']} SET {c['author_id']} = {current} WHERE {stale}"


def stale_author_copies(s: Fragments) -> str:
    """The collaborator rows whose copy of the author is out of date, with the post's author.

    On PostgreSQL a row another writer holds is left out: a settle skips such a row rather
    than wait on its writer (`author_copy_repair`), so its copy stays old until that writer's
    own settle, at its commit, brings it up to date (or the row goes) — it is in flight, not
    drift.
    """
    n, p, c = s.name, s.p, s.c
    postgres = s.dialect.name == "postgresql"
    different = "IS DISTINCT FROM" if postgres else "IS NOT"
    unheld = (
        f" AND k.ctid IN (SELECT ctid FROM {n['pc']} WHERE {c['post_id']} = k.{c['post_id']}"
        " FOR SHARE SKIP LOCKED)"
        if postgres
        else ""
    )
    return (
        f"SELECT x.{p['author_id']} AS author_id FROM {n['pc']} AS k JOIN {n['posts']} AS x"
        f" ON x.{p['id']} = k.{c['post_id']}"
        f" WHERE k.{c['author_id']} {different} x.{p['author_id']}{unheld}"
    )


def _pg_function(name: str, body: list[str], *, returns: str) -> list[str]:
    text = "\n".join(body)
    return [
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n{text}\nRETURN {returns};\nEND;\n$$"
    ]


# --- SQLite --------------------------------------------------------------------------------

Column = Any  # a function from a column key to the SQL of that column of some row


def sqlite_program(conn: Connection, target: DashboardTables, aux: Aux) -> list[str]:
    """The triggers, as DDL statements in the order to run them."""
    s = Fragments(conn, target, aux)
    n, p, c, f = s.name, s.p, s.c, s.f

    def row(name: str, quoted: dict[str, str]) -> Column:
        return lambda key: f"{name}.{quoted[key]}"

    def stashed(table: str, quoted: dict[str, str], keys: tuple[str, ...]) -> Column:
        """A column of the stashed row with NEW's key (NULL when there is none); the stash
        tables name their columns by the library's keys."""
        match = " AND ".join(f"{k} = NEW.{quoted[k]}" for k in keys)
        return lambda key: f"(SELECT {key} FROM {table} WHERE {match})"

    def live(col: Column) -> str:
        deleted: ColumnElement[Any] = literal_column(col("is_deleted"))
        created: ColumnElement[Any] = literal_column(col("created_at"))
        return f"({s.render(live_post(deleted, created))})"

    def clamp(col: Column, key: str) -> str:
        return s.render(clamped(literal_column(col(key))))

    def ensure(user: str) -> str:
        return (
            f"INSERT INTO {n['stats']} (user_id) SELECT {user} WHERE {user} IS NOT NULL"
            " ON CONFLICT DO NOTHING;"
        )

    def post_figures(col: Column, sign: str) -> list[str]:
        sets = [f"posts = posts {sign} 1"]
        sets += [f"{k} = {k} {sign} {clamp(col, k)}" for k in rules.POST_COUNTERS]
        update = (
            f"UPDATE {n['stats']} SET {', '.join(sets)}"
            f" WHERE user_id = {col('author_id')} AND {live(col)};"
        )
        return [ensure(col("author_id")), update] if sign == "+" else [update]

    def follow_figures(col: Column, sign: str) -> list[str]:
        followee, follower, created = col("followee_id"), col("follower_id"), col("created_at")
        return [
            *([ensure(followee), ensure(follower)] if sign == "+" else []),
            f"UPDATE {n['stats']} SET followers = followers {sign} 1 WHERE user_id = {followee};",
            f"UPDATE {n['stats']} SET following = following {sign} 1 WHERE user_id = {follower};",
            f"INSERT INTO {n['days']} (user_id, day, follows)"
            f" SELECT {followee}, {s.day(created)}, {sign}1 WHERE {created} IS NOT NULL"
            f" ON CONFLICT (user_id, day) DO UPDATE SET follows = follows {sign} 1;",
        ]

    def credits(post: str) -> list[str]:
        """Recompute one post's credits and move the figures by the difference."""
        now_ = f"SELECT user_id FROM ({s.pairs(lambda post_id: post_id == literal_column(post))})"
        counted = f"SELECT user_id FROM {n['credits']} WHERE post_id = {post}"
        gained, lost = f"{now_} EXCEPT {counted}", f"{counted} EXCEPT {now_}"
        return [
            f"UPDATE {n['stats']} SET collaborations = collaborations - 1"
            f" WHERE user_id IN ({lost});",
            f"INSERT INTO {n['stats']} (user_id) SELECT user_id FROM ({gained}) WHERE true"
            " ON CONFLICT DO NOTHING;",
            f"UPDATE {n['stats']} SET collaborations = collaborations + 1"
            f" WHERE user_id IN ({gained});",
            f"DELETE FROM {n['credits']} WHERE post_id = {post} AND user_id IN ({lost});",
            f"INSERT INTO {n['credits']} (post_id, user_id) SELECT {post}, user_id"
            f" FROM ({now_}) WHERE true ON CONFLICT DO NOTHING;",
        ]

    post_key, follow_key = ("id",), ("follower_id", "followee_id")

    def stash(kind: str, quoted: dict[str, str], keys: tuple[str, ...]) -> list[str]:
        """Keep the row an INSERT OR REPLACE may remove without a DELETE trigger."""
        table, stash_table, columns = n[kind], n[f"stash_{kind}"], STASHED[kind]
        match = " AND ".join(f"{quoted[k]} = NEW.{quoted[k]}" for k in keys)
        return [
            unstash(stash_table, quoted, keys),
            f"INSERT INTO {stash_table} ({', '.join(columns)})"
            f" SELECT {', '.join(quoted[k] for k in columns)} FROM {table} WHERE {match};",
        ]

    def unstash(stash_table: str, quoted: dict[str, str], keys: tuple[str, ...]) -> str:
        match = " AND ".join(f"{k} = NEW.{quoted[k]}" for k in keys)
        return f"DELETE FROM {stash_table} WHERE {match};"

    audience = AudienceSql(conn, target, aux.viewed) if aux.audience is not None else None

    def author_of(post: str) -> str:
        return f"(SELECT {p['author_id']} FROM {n['posts']} WHERE {p['id']} = {post})"

    def post_viewers(col: Column, when: str = "1 = 1") -> list[str]:
        """Recompute the rows of the post's author for its viewers."""
        if audience is None:
            return []
        return [audience.upsert_viewers(n["audience"], col("author_id"), col("id"), when)]

    def follower(col: Column) -> list[str]:
        if audience is None:
            return []
        return [audience.upsert_pair(n["audience"], col("followee_id"), col("follower_id"))]

    replaced_post = stashed(n["stash_posts"], p, post_key)
    replaced_follow = stashed(n["stash_follows"], f, follow_key)
    old_post, new_post = row("OLD", p), row("NEW", p)
    old_follow, new_follow = row("OLD", f), row("NEW", f)
    sync_author = [author_copy_repair(s, f"NEW.{p['id']}") + ";"] if s.knows_author else []
    triggers: dict[str, tuple[str, str, str | None, list[str]]] = {
        "post_stash": ("BEFORE INSERT", n["posts"], None, stash("posts", p, post_key)),
        "post_insert": (
            "AFTER INSERT",
            n["posts"],
            None,
            [
                *post_figures(replaced_post, "-"),
                *post_viewers(replaced_post),
                unstash(n["stash_posts"], p, post_key),
                *post_figures(new_post, "+"),
                *sync_author,
                *credits(f"NEW.{p['id']}"),
                *post_viewers(new_post),
            ],
        ),
        "post_update": (
            "AFTER UPDATE",
            n["posts"],
            s.post_changed(),
            [
                *post_figures(old_post, "-"),
                *post_figures(new_post, "+"),
                *sync_author,
                *credits(f"OLD.{p['id']}"),
                *credits(f"NEW.{p['id']}"),
                *post_viewers(old_post, s.handed_over().replace("IS DISTINCT FROM", "IS NOT")),
                *post_viewers(new_post, s.handed_over().replace("IS DISTINCT FROM", "IS NOT")),
            ],
        ),
        "post_delete": (
            "AFTER DELETE",
            n["posts"],
            None,
            [*post_figures(old_post, "-"), *credits(f"OLD.{p['id']}"), *post_viewers(old_post)],
        ),
        "collaborator_insert": ("AFTER INSERT", n["pc"], None, credits(f"NEW.{c['post_id']}")),
        "collaborator_delete": ("AFTER DELETE", n["pc"], None, credits(f"OLD.{c['post_id']}")),
        "collaborator_update": (
            "AFTER UPDATE",
            n["pc"],
            f"OLD.{c['post_id']} IS NOT NEW.{c['post_id']}"
            f" OR OLD.{c['user_id']} IS NOT NEW.{c['user_id']}",
            [*credits(f"OLD.{c['post_id']}"), *credits(f"NEW.{c['post_id']}")],
        ),
        "follow_stash": (
            "BEFORE INSERT",
            n["follows"],
            None,
            stash("follows", f, follow_key),
        ),
        "follow_insert": (
            "AFTER INSERT",
            n["follows"],
            None,
            [
                *follow_figures(replaced_follow, "-"),
                unstash(n["stash_follows"], f, follow_key),
                *follow_figures(new_follow, "+"),
                *follower(new_follow),
            ],
        ),
        "follow_delete": (
            "AFTER DELETE",
            n["follows"],
            None,
            [*follow_figures(old_follow, "-"), *follower(old_follow)],
        ),
        "follow_update": (
            "AFTER UPDATE",
            n["follows"],
            " OR ".join(
                f"OLD.{f[k]} IS NOT NEW.{f[k]}"
                for k in ("follower_id", "followee_id", "created_at")
            ),
            [
                *follow_figures(old_follow, "-"),
                *follow_figures(new_follow, "+"),
                *follower(old_follow),
                *follower(new_follow),
            ],
        ),
    }
    q = conn.dialect.identifier_preparer
    for kind, events_table, stash_table in zip(
        aux.viewed_kinds, aux.viewed, aux.stash_viewed, strict=True
    ):
        assert audience is not None
        e = {col.key: q.quote(col.name) for col in events_table.c}
        name, stash_name = q.format_table(events_table), q.format_table(stash_table)
        kept = ("id", "post_id", "user_id")
        match = f"id = NEW.{e['id']}"

        def pair(post: str, user: str) -> str:
            assert audience is not None
            return audience.upsert_pair(n["audience"], author_of(post), user)

        def was(key: str, stash_name: str = stash_name, match: str = match) -> str:
            return f"(SELECT {key} FROM {stash_name} WHERE {match})"

        triggers[f"{kind}_stash"] = (
            "BEFORE INSERT",
            name,
            None,
            [
                f"DELETE FROM {stash_name} WHERE {match};",
                f"INSERT INTO {stash_name} ({', '.join(kept)})"
                f" SELECT {', '.join(e[k] for k in kept)} FROM {name}"
                f" WHERE {e['id']} = NEW.{e['id']};",
            ],
        )
        triggers[f"{kind}_insert"] = (
            "AFTER INSERT",
            name,
            None,
            [
                pair(was("post_id"), was("user_id")),
                f"DELETE FROM {stash_name} WHERE {match};",
                pair(f"NEW.{e['post_id']}", f"NEW.{e['user_id']}"),
            ],
        )
        triggers[f"{kind}_delete"] = (
            "AFTER DELETE",
            name,
            None,
            [pair(f"OLD.{e['post_id']}", f"OLD.{e['user_id']}")],
        )
        triggers[f"{kind}_update"] = (
            "AFTER UPDATE",
            name,
            " OR ".join(
                f"OLD.{e[k]} IS NOT NEW.{e[k]}" for k in ("post_id", "user_id", "created_at")
            ),
            [
                pair(f"OLD.{e['post_id']}", f"OLD.{e['user_id']}"),
                pair(f"NEW.{e['post_id']}", f"NEW.{e['user_id']}"),
            ],
        )
    ddl = []
    for short, (events, table, when, body) in triggers.items():
        condition = f" WHEN {when}" if when else ""
        ddl.append(
            f"CREATE TRIGGER {trigger_name(short)} {events} ON {table} FOR EACH ROW{condition}"
            "\nBEGIN\n" + "\n".join(body) + "\nEND"
        )
    return ddl
