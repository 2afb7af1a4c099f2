"""The naive way: load the artist's posts and follows into Python, then add them up.

Every post the artist wrote or is listed on (with their collaborators), every follow to or from
the artist, and the artist's record become records in the reference in-memory store, which then
builds the dashboard. This is what the library exists to avoid.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, or_, select

from artist_dashboard import ArtistDashboard, FixedClock, Follow, Post, User, build_dashboard
from artist_dashboard.memory import InMemoryStore
from artist_dashboard.sql import tables


def naive_dashboard(conn: Connection, user_id: str, now: datetime) -> ArtistDashboard:
    p, c, f, u = tables.posts, tables.post_collaborators, tables.follows, tables.users
    listed = select(c.c.post_id).where(c.c.user_id == user_id)
    post_rows = conn.execute(
        select(p).where(or_(p.c.author_id == user_id, p.c.id.in_(listed)))
    ).all()
    collaborators: dict[str, list[str]] = {}
    for post_id, collaborator in conn.execute(
        select(c.c.post_id, c.c.user_id).where(
            or_(c.c.author_id == user_id, c.c.post_id.in_(listed))
        )
    ):
        collaborators.setdefault(post_id, []).append(collaborator)
    posts = [
        Post(
            id=r.id,
            author_id=r.author_id,
            created_at=r.created_at,
            collaborator_ids=collaborators.get(r.id, []),
            post_type=r.post_type,
            content=r.content,
            thumbnail_url=r.thumbnail_url,
            display_url=r.display_url,
            view_count=r.view_count,
            play_count=r.play_count,
            likes_count=r.likes_count,
            comments_count=r.comments_count,
            saves_count=r.saves_count,
            shares_count=r.shares_count,
            is_deleted=bool(r.is_deleted),
        )
        for r in post_rows
    ]
    follows = [
        Follow(follower_id=a, followee_id=b, created_at=t)
        for a, b, t in conn.execute(
            select(f.c.follower_id, f.c.followee_id, f.c.created_at).where(
                or_(f.c.followee_id == user_id, f.c.follower_id == user_id)
            )
        )
    ]
    users = [
        User(id=r.id, name=r.name, stage_name=r.stage_name, bio=r.bio, avatar=r.avatar)
        for r in conn.execute(select(u).where(u.c.id == user_id))
    ]
    store = InMemoryStore(users, posts, follows)
    return build_dashboard(user_id, store.repos, FixedClock(now))
