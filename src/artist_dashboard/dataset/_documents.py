"""Embedded default: the documents of each collection (SPEC §7) as records, and back."""

from __future__ import annotations

from typing import Any

from .._core.records import DailyAnalytics, Earning, Follow, Post, PostEvent, User
from .._core.wire import format_instant
from ._fields import (
    UnreadableDocument,
    read_amount,
    read_counter,
    read_currency,
    read_day,
    read_flag,
    read_id,
    read_ids,
    read_instant,
    read_text,
    read_viewer,
    required,
    shown,
)

# --- documents -----------------------------------------------------------------------------


def parse_user(doc: dict[str, Any]) -> User:
    """A user record from a plain-JSON document (raises on an unreadable one)."""
    return User(
        id=read_id(required(doc, "_id"), "_id"),
        name=read_text(doc, "name"),
        stage_name=read_text(doc, "stageName"),
        bio=read_text(doc, "bio"),
        avatar=read_text(doc, "avatar"),
        cover_image=read_text(doc, "coverImage"),
        is_verified=read_flag(doc, "isVerified"),
    )


def parse_post(doc: dict[str, Any]) -> Post:
    """A post record from a plain-JSON document (raises on an unreadable one)."""
    return Post(
        id=read_id(required(doc, "_id"), "_id"),
        author_id=read_id(required(doc, "authorId"), "authorId"),
        created_at=read_instant(required(doc, "createdAt"), "createdAt"),
        collaborator_ids=read_ids(doc, "collaboratorIds"),
        post_type=read_text(doc, "postType"),
        content=read_text(doc, "content"),
        thumbnail_url=read_text(doc, "thumbnailUrl"),
        display_url=read_text(doc, "displayUrl"),
        view_count=read_counter(doc, "viewCount"),
        play_count=read_counter(doc, "playCount"),
        likes_count=read_counter(doc, "likesCount"),
        comments_count=read_counter(doc, "commentsCount"),
        saves_count=read_counter(doc, "savesCount"),
        shares_count=read_counter(doc, "sharesCount"),
        is_deleted=read_flag(doc, "isDeleted"),
    )


def parse_follow(doc: dict[str, Any]) -> Follow:
    """A follow record from a plain-JSON document (raises on an unreadable one)."""
    return Follow(
        follower_id=read_id(required(doc, "followerId"), "followerId"),
        followee_id=read_id(required(doc, "followeeId"), "followeeId"),
        created_at=read_instant(required(doc, "createdAt"), "createdAt"),
    )


# --- writing -------------------------------------------------------------------------------


def user_document(user: User) -> dict[str, Any]:
    return {
        "_id": user.id,
        "name": user.name,
        "stageName": user.stage_name,
        "bio": user.bio,
        "avatar": user.avatar,
        "coverImage": user.cover_image,
        "isVerified": user.is_verified,
    }


def post_document(post: Post) -> dict[str, Any]:
    return {
        "_id": post.id,
        "authorId": post.author_id,
        "collaboratorIds": list(post.collaborator_ids),
        "postType": post.post_type,
        "content": post.content,
        "thumbnailUrl": post.thumbnail_url,
        "displayUrl": post.display_url,
        "viewCount": post.view_count,
        "playCount": post.play_count,
        "likesCount": post.likes_count,
        "commentsCount": post.comments_count,
        "savesCount": post.saves_count,
        "sharesCount": post.shares_count,
        "createdAt": format_instant(post.created_at),
        "isDeleted": post.is_deleted,
    }


def follow_document(follow: Follow) -> dict[str, Any]:
    return {
        "followerId": follow.follower_id,
        "followeeId": follow.followee_id,
        "createdAt": format_instant(follow.created_at),
    }


# --- the analytics sources (SPEC §6.1) -----------------------------------------------------

#: The ``type`` of an engagement event, exactly; anything else makes the event unreadable.
ENGAGEMENT_TYPES = ("like", "comment", "save", "share")


def _event(doc: dict[str, Any], kind: str) -> PostEvent:
    return PostEvent(
        id=read_id(required(doc, "_id"), "_id"),
        post_id=read_id(required(doc, "postId"), "postId"),
        created_at=read_instant(required(doc, "createdAt"), "createdAt"),
        kind=kind,
        user_id=read_viewer(doc, "userId"),
    )


def parse_view_event(doc: dict[str, Any]) -> PostEvent:
    """A ``post_view_events`` document (raises on an unreadable one)."""
    return _event(doc, "view")


def parse_play_event(doc: dict[str, Any]) -> PostEvent:
    """A ``post_play_events`` document (raises on an unreadable one)."""
    return _event(doc, "play")


def parse_engagement_event(doc: dict[str, Any]) -> PostEvent:
    """A ``post_engagement_events`` document: its ``type`` is exactly like, comment, save or
    share (raises on an unreadable one)."""
    kind = required(doc, "type")
    if kind not in ENGAGEMENT_TYPES:
        kinds = ", ".join(ENGAGEMENT_TYPES)
        raise UnreadableDocument(f"type: {shown(kind)} is not one of {kinds}")
    return _event(doc, kind)


def parse_daily(doc: dict[str, Any]) -> DailyAnalytics:
    """A ``daily_artist_analytics`` document, keyed by artist and day (raises on an
    unreadable one)."""
    return DailyAnalytics(
        artist_id=read_id(required(doc, "artistId"), "artistId"),
        day=read_day(doc, "date"),
        view_count=read_counter(doc, "viewCount"),
        play_count=read_counter(doc, "playCount"),
        likes_count=read_counter(doc, "likesCount"),
        comments_count=read_counter(doc, "commentsCount"),
        saves_count=read_counter(doc, "savesCount"),
        shares_count=read_counter(doc, "sharesCount"),
    )


def parse_earning(doc: dict[str, Any]) -> Earning:
    """An ``earnings`` document (raises on an unreadable one)."""
    return Earning(
        id=read_id(required(doc, "_id"), "_id"),
        artist_id=read_id(required(doc, "artistId"), "artistId"),
        amount=read_amount(doc, "amount"),
        currency=read_currency(doc, "currency"),
        created_at=read_instant(required(doc, "createdAt"), "createdAt"),
    )


def event_document(event: PostEvent) -> dict[str, Any]:
    document: dict[str, Any] = {
        "_id": event.id,
        "postId": event.post_id,
        "userId": event.user_id,
        "createdAt": format_instant(event.created_at),
    }
    if event.kind in ENGAGEMENT_TYPES:
        document["type"] = event.kind
    return document


def daily_document(row: DailyAnalytics) -> dict[str, Any]:
    return {
        "artistId": row.artist_id,
        "date": row.day.isoformat(),
        "viewCount": row.view_count,
        "playCount": row.play_count,
        "likesCount": row.likes_count,
        "commentsCount": row.comments_count,
        "savesCount": row.saves_count,
        "sharesCount": row.shares_count,
    }


def earning_document(entry: Earning) -> dict[str, Any]:
    """The amount is written as a string: its exact text."""
    return {
        "_id": entry.id,
        "artistId": entry.artist_id,
        "amount": str(entry.amount),
        "currency": entry.currency,
        "createdAt": format_instant(entry.created_at),
    }
