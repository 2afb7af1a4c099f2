"""Embedded default: the in-memory store, reference implementation of the ports.

It keeps records in dicts indexed by author, followee and follower, and answers every port
method with the core's rules directly, which makes it the yardstick the conformance kit
measures other stores against.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from ._core import rules
from ._core.build import Repos
from ._core.records import Follow, Post, PostTotals, User

__all__ = ["InMemoryStore"]


class InMemoryStore:
    """Users, posts and follows in memory; implements `UserRepo`, `PostRepo`, `FollowRepo`.

    A record added with the id of an existing one replaces it (a follow is identified by its
    follower and followee).
    """

    def __init__(
        self,
        users: Iterable[User] = (),
        posts: Iterable[Post] = (),
        follows: Iterable[Follow] = (),
    ) -> None:
        self._users: dict[str, User] = {}
        self._posts: dict[str, Post] = {}
        self._by_author: defaultdict[str, dict[str, Post]] = defaultdict(dict)
        self._by_collaborator: defaultdict[str, set[str]] = defaultdict(set)
        self._followers: defaultdict[str, dict[str, Follow]] = defaultdict(dict)
        self._following: defaultdict[str, dict[str, Follow]] = defaultdict(dict)
        for user in users:
            self.add_user(user)
        for post in posts:
            self.add_post(post)
        for follow in follows:
            self.add_follow(follow)

    @property
    def repos(self) -> Repos:
        """This store as all three ports, for `build_dashboard`."""
        return Repos.of(self)

    def add_user(self, user: User) -> None:
        self._users[user.id] = user

    def add_post(self, post: Post) -> None:
        old = self._posts.pop(post.id, None)
        if old is not None:
            del self._by_author[old.author_id][old.id]
            for collaborator in old.collaborator_ids:
                self._by_collaborator[collaborator].discard(old.id)
        self._posts[post.id] = post
        self._by_author[post.author_id][post.id] = post
        for collaborator in post.collaborator_ids:
            self._by_collaborator[collaborator].add(post.id)

    def add_follow(self, follow: Follow) -> None:
        self._followers[follow.followee_id][follow.follower_id] = follow
        self._following[follow.follower_id][follow.followee_id] = follow

    @property
    def users(self) -> Sequence[User]:
        return list(self._users.values())

    @property
    def posts(self) -> Sequence[Post]:
        return list(self._posts.values())

    @property
    def follows(self) -> Sequence[Follow]:
        return [f for by_follower in self._followers.values() for f in by_follower.values()]

    # UserRepo

    def get_user(self, user_id: str) -> User | None:
        return self._users.get(user_id)

    def get_users(self, user_ids: Collection[str]) -> Mapping[str, User]:
        return {i: self._users[i] for i in user_ids if i in self._users}

    # PostRepo

    def _live(self, author_id: str) -> list[Post]:
        return [p for p in self._by_author.get(author_id, {}).values() if not p.is_deleted]

    def post_totals(self, author_id: str) -> PostTotals:
        live = self._live(author_id)
        sums = {name: sum(getattr(p, name) for p in live) for name in rules.POST_COUNTERS}
        return PostTotals(posts=len(live), **sums)

    def count_collaborations(self, user_id: str) -> int:
        candidates = set(self._by_collaborator.get(user_id, ())) | set(
            self._by_author.get(user_id, {})
        )
        return sum(rules.is_collaboration(self._posts[i], user_id) for i in candidates)

    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        return rules.rank_top_content(self._live(author_id), limit)

    def recent_posts(
        self, author_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Post]:
        found = [p for p in self._live(author_id) if rules.in_window(p.created_at, after, until)]
        found.sort(key=lambda p: (p.created_at, p.id), reverse=True)
        return found[:limit]

    # FollowRepo

    def count_followers(self, user_id: str) -> int:
        return len(self._followers.get(user_id, {}))

    def count_following(self, user_id: str) -> int:
        return len(self._following.get(user_id, {}))

    def count_new_followers(self, user_id: str, after: datetime, until: datetime) -> int:
        follows = self._followers.get(user_id, {}).values()
        return sum(rules.in_window(f.created_at, after, until) for f in follows)

    def recent_followers(
        self, user_id: str, after: datetime, until: datetime, limit: int
    ) -> Sequence[Follow]:
        follows = self._followers.get(user_id, {}).values()
        found = [f for f in follows if rules.in_window(f.created_at, after, until)]
        found.sort(key=lambda f: (f.created_at, f.follower_id), reverse=True)
        return found[:limit]
