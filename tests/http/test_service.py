"""The HTTP service, through both framework layers: privacy, every 401, errors, headers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
import pytest

from artist_dashboard import FixedClock, Follow, Post, Repos, User, build_dashboard
from artist_dashboard.auth import AuthConfigError, InvalidToken, JwtAuthenticator, mint_token
from artist_dashboard.demo import DEMO_NOW, DEMO_USER_ID, demo_dashboard, demo_store
from artist_dashboard.memory import InMemoryStore
from artist_dashboard.wire import to_dict

from .conftest import AUTH, SECRET, MakeClient

DASHBOARD = "/api/v1/users/me/dashboard"
NOW = datetime(2026, 6, 8, tzinfo=UTC)
CLOCK = FixedClock(NOW)
PRIVATE_KEYS = {"viewCount", "playCount", "listenCount", "engagementRate", "earnings", "audience"}


def token(sub: Any = DEMO_USER_ID, **claims: Any) -> str:
    payload = {"sub": sub, "exp": int(time.time()) + 600, **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, SECRET, "HS256")


def two_artists() -> InMemoryStore:
    return InMemoryStore(
        [User(id="artist-a", name="A"), User(id="artist-b", name="B")],
        [
            Post(id="a1", author_id="artist-a", created_at=NOW, view_count=10, likes_count=1),
            Post(id="b1", author_id="artist-b", created_at=NOW, view_count=999, likes_count=500),
        ],
        [Follow(follower_id="artist-b", followee_id="artist-a", created_at=NOW)],
    )


def sql_two_artists(url: str) -> Repos:
    pytest.importorskip("sqlalchemy")
    from sqlalchemy import create_engine

    from artist_dashboard.sql import SqlStore, load_records_into, tables

    store = two_artists()
    engine = create_engine(url)
    tables.metadata.drop_all(engine)
    load_records_into(engine, store.users, store.posts, store.follows)
    return SqlStore(engine).repos


@pytest.mark.parametrize(
    "store_kind", ["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_token_only_ever_shows_its_own_dashboard(
    make_client: MakeClient, store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """BOLA matrix, on every store: A's token gives A's figures, whatever the request adds to
    name B."""
    if store_kind == "memory":
        repos = two_artists().repos
    elif store_kind == "sqlite":
        repos = sql_two_artists(f"sqlite:///{tmp_path / 'bola.db'}")
    else:
        repos = sql_two_artists(request.getfixturevalue("postgres_url"))
    client = make_client(repos, clock=CLOCK)
    for me, other in (("artist-a", "artist-b"), ("artist-b", "artist-a")):
        expected = to_dict(build_dashboard(me, two_artists().repos, CLOCK))
        assert client.token(token(me)).json() == expected
        sneaky_headers = {
            "Authorization": f"Bearer {token(me)}",
            "X-User-Id": other,
            "X-Forwarded-User": other,
            "Cookie": f"userId={other}",
        }
        assert client.get(DASHBOARD, sneaky_headers).json()["profile"]["_id"] == me
        for query in (f"?userId={other}", f"?user_id={other}", f"?id={other}", "?x=1"):
            answer = client.get(DASHBOARD + query, {"Authorization": f"Bearer {token(me)}"})
            assert answer.status == 400
            assert other.encode() not in answer.body


def test_the_demo_over_http_is_the_demo(make_client: MakeClient) -> None:
    """The demo artist's dashboard over HTTP is byte for byte the library's JSON of it."""
    client = make_client(demo_store().repos, clock=FixedClock(DEMO_NOW))
    answer = client.token(token())
    assert answer.status == 200
    assert answer.json() == to_dict(demo_dashboard())
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.headers["cache-control"] == "private, no-store"


def _alg_none() -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': DEMO_USER_ID, 'exp': 2**40})}."


UNAUTHORIZED: list[tuple[str, dict[str, str], str]] = [
    ("no header", {}, "Bearer"),
    ("empty bearer", {"Authorization": "Bearer "}, 'Bearer error="invalid_token"'),
    ("garbage", {"Authorization": "Bearer not.a.jwt"}, 'Bearer error="invalid_token"'),
    (
        "wrong signature",
        {
            "Authorization": "Bearer "
            + jwt.encode({"sub": DEMO_USER_ID, "exp": 2**40}, "x" * 40, "HS256")
        },
        'Bearer error="invalid_token"',
    ),
    (
        "expired",
        {"Authorization": f"Bearer {token(exp=int(time.time()) - 3600)}"},
        'Bearer error="invalid_token"',
    ),
    (
        "no exp",
        {"Authorization": "Bearer " + jwt.encode({"sub": DEMO_USER_ID}, SECRET, "HS256")},
        'Bearer error="invalid_token"',
    ),
    ("no sub", {"Authorization": f"Bearer {token(sub=None)}"}, 'Bearer error="invalid_token"'),
    ("alg none", {"Authorization": f"Bearer {_alg_none()}"}, 'Bearer error="invalid_token"'),
    ("basic scheme", {"Authorization": "Basic dXNlcjpwYXNz"}, "Bearer"),
    ("token scheme", {"Authorization": f"Token {token()}"}, "Bearer"),
    (
        "unknown subject",
        {"Authorization": f"Bearer {token(sub='ghost')}"},
        'Bearer error="invalid_token"',
    ),
    ("huge token", {"Authorization": "Bearer " + "a" * 9000}, 'Bearer error="invalid_token"'),
]


@pytest.mark.parametrize(
    ("case", "headers", "challenge"), UNAUTHORIZED, ids=[c[0] for c in UNAUTHORIZED]
)
def test_every_unauthorized_request_is_401_with_a_bearer_challenge(
    make_client: MakeClient, case: str, headers: dict[str, str], challenge: str
) -> None:
    """No valid token: 401, a Bearer challenge (invalid_token when a token was given), a
    problem document, and nothing of any dashboard."""
    answer = make_client(demo_store().repos).get(DASHBOARD, headers)
    assert answer.status == 401, case
    assert answer.headers["www-authenticate"] == challenge
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert (problem["status"], problem["title"]) == (401, "Unauthorized")
    assert not PRIVATE_KEYS & set(problem)


def test_a_token_in_the_query_string_is_never_read(make_client: MakeClient) -> None:
    """?access_token= (or any name) without a header is 401: tokens come from the header only."""
    client = make_client(demo_store().repos)
    for name in ("access_token", "token", "jwt"):
        answer = client.get(f"{DASHBOARD}?{name}={token()}")
        assert answer.status == 401
        assert answer.headers["www-authenticate"] == "Bearer"


def test_authentication_comes_before_the_query_check(make_client: MakeClient) -> None:
    """?userId= without a valid token is 401, not 400: nothing is revealed before auth."""
    answer = make_client(demo_store().repos).get(f"{DASHBOARD}?userId={DEMO_USER_ID}")
    assert answer.status == 401


def rsa_keys() -> tuple[str, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private.decode(), public


def test_rs256_accepts_its_keys_and_refuses_hs256_signed_with_the_public_key(
    make_client: MakeClient,
) -> None:
    """With an RS256 public key configured, a genuine RS256 token works; an HS256 token whose
    HMAC key is the public key (algorithm confusion) is 401."""
    private, public = rsa_keys()
    client = make_client(demo_store().repos, JwtAuthenticator.from_public_key(public.decode()))
    good = jwt.encode({"sub": DEMO_USER_ID, "exp": 2**40}, private, "RS256")
    assert client.token(good).status == 200

    def part(data: dict[str, Any]) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")

    signing_input = (
        part({"alg": "HS256", "typ": "JWT"}) + b"." + part({"sub": DEMO_USER_ID, "exp": 2**40})
    )
    signature = base64.urlsafe_b64encode(
        hmac.new(public, signing_input, hashlib.sha256).digest()
    ).rstrip(b"=")
    forged = (signing_input + b"." + signature).decode()
    answer = client.token(forged)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_issuer_and_audience_are_checked_when_configured(make_client: MakeClient) -> None:
    """A token for another issuer or audience is refused; the right ones pass."""
    checking = JwtAuthenticator.from_secret(
        SECRET, issuer="https://id.example", audience="artist-app"
    )
    client = make_client(demo_store().repos, checking)
    assert client.token(token(iss="https://id.example", aud="artist-app")).status == 200
    assert client.token(token(iss="https://evil.example", aud="artist-app")).status == 401
    assert client.token(token(iss="https://id.example", aud="other-app")).status == 401
    assert client.token(token()).status == 401


def test_short_or_missing_secrets_are_refused_at_start() -> None:
    """An HS256 secret under 32 bytes, or no key at all, stops configuration with a reason."""
    with pytest.raises(AuthConfigError, match="at least 32 bytes"):
        JwtAuthenticator.from_env({"ARTIST_DASHBOARD_JWT_SECRET": "short"})
    with pytest.raises(AuthConfigError, match="ARTIST_DASHBOARD_JWT_SECRET"):
        JwtAuthenticator.from_env({})


def test_minted_tokens_carry_exp_and_the_configured_claims() -> None:
    """`mint_token` signs sub, exp, iss and aud, and the same configuration accepts it."""
    configured = JwtAuthenticator.from_secret(SECRET, issuer="me", audience="app")
    minted = mint_token("u1", configured, ttl_seconds=60)
    claims = jwt.decode(minted, SECRET, ["HS256"], audience="app")
    assert claims["sub"] == "u1"
    assert claims["iss"] == "me"
    assert 0 < claims["exp"] - time.time() <= 60
    assert configured.authenticate(minted) == "u1"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_are_405_with_allow(make_client: MakeClient, method: str) -> None:
    """Only GET (and HEAD) are served; others get 405 problem+json naming the allowed ones."""
    client = make_client(demo_store().repos)
    for path in (DASHBOARD, f"/api/v1/users/{DEMO_USER_ID}/profile-overview"):
        answer = client.request(method, path, {"Authorization": f"Bearer {token()}"})
        assert answer.status == 405
        assert answer.headers["allow"] == "GET, HEAD"
        assert answer.headers["content-type"] == "application/problem+json"


def test_profile_overview_is_public_and_shows_no_private_figure(make_client: MakeClient) -> None:
    """The overview needs no token and carries only public fields and public counts."""
    client = make_client(demo_store().repos)
    answer = client.get(f"/api/v1/users/{DEMO_USER_ID}/profile-overview")
    assert answer.status == 200
    overview = answer.json()
    assert overview["stats"] == {"followersCount": 120, "followingCount": 45, "postsCount": 12}
    assert overview["profile"]["stageName"] == "Stage Name"
    text = answer.body.decode()
    for private in (
        "viewCount",
        "playCount",
        "engagement",
        "earnings",
        "nonFollowers",
        "topContent",
    ):
        assert private not in text


def test_unknown_profile_and_unknown_path_are_404_problems(make_client: MakeClient) -> None:
    """An unknown user id, or a path the service does not have, is 404 problem+json."""
    client = make_client(demo_store().repos)
    for path in ("/api/v1/users/nobody/profile-overview", "/api/v1/nothing-here"):
        answer = client.get(path)
        assert answer.status == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 404


def test_oversized_headers_are_431_problems(make_client: MakeClient) -> None:
    """A header beyond the limit is refused with 431 problem+json, not processed."""
    answer = make_client(demo_store().repos).get(DASHBOARD, {"X-Padding": "x" * 10_000})
    assert answer.status == 431
    assert answer.headers["content-type"] == "application/problem+json"


class FailsMidBuild(InMemoryStore):
    def top_posts(self, author_id: str, limit: int) -> Sequence[Post]:
        raise OSError("disk I/O error in /var/lib/db/posts.sqlite at SELECT * FROM posts")


class Slow(InMemoryStore):
    def post_totals(self, author_id: str) -> Any:
        time.sleep(1.0)
        return super().post_totals(author_id)


@pytest.mark.parametrize("store_class", [FailsMidBuild, Slow])
def test_storage_failure_or_timeout_is_503_with_nothing_of_the_dashboard(
    make_client: MakeClient, store_class: type[InMemoryStore]
) -> None:
    """A store that fails mid-build, or is slower than the timeout, gives 503 problem+json with
    Retry-After, no dashboard field, and no internal detail."""
    users, posts, follows = demo_store().users, demo_store().posts, demo_store().follows
    client = make_client(store_class(users, posts, follows).repos, timeout=0.3)
    answer = client.token(token())
    assert answer.status == 503
    assert int(answer.headers["retry-after"]) > 0
    assert answer.headers["content-type"] == "application/problem+json"
    assert set(answer.json()) == {"type", "title", "status", "detail"}
    for leak in (b"profile", b"stats", b"SELECT", b"/var/lib", b"Traceback", b"OSError"):
        assert leak not in answer.body


class Exploding:
    def authenticate(self, token: str) -> str:
        raise RuntimeError("bug in a custom authenticator")


def test_an_unexpected_error_is_a_500_problem_without_a_trace(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug is 500 problem+json for the client; the traceback goes to the server log."""
    with caplog.at_level(logging.ERROR, logger="artist_dashboard.http"):
        answer = make_client(demo_store().repos, Exploding()).token(token())
    assert answer.status == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert b"Traceback" not in answer.body
    assert b"RuntimeError" not in answer.body
    assert "bug in a custom authenticator" in caplog.text


def test_access_log_never_contains_a_token(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """The access log names method, path and status — not the query string nor headers."""
    secret_token = token()
    with caplog.at_level(logging.INFO, logger="artist_dashboard.access"):
        client = make_client(demo_store().repos)
        client.token(secret_token)
        client.get(f"{DASHBOARD}?access_token={secret_token}")
    lines = [r.getMessage() for r in caplog.records if r.name == "artist_dashboard.access"]
    assert any(line.startswith("GET /api/v1/users/me/dashboard 200") for line in lines)
    assert all(secret_token not in line and "access_token" not in line for line in lines)


def test_openapi_names_both_endpoints_every_error_and_no_user_id(make_client: MakeClient) -> None:
    """/openapi.json is OpenAPI 3.1 with the bearer scheme, both paths, their errors, and no
    userId parameter anywhere."""
    document = make_client(demo_store().repos).get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    dashboard = document["paths"]["/api/v1/users/me/dashboard"]["get"]
    assert set(dashboard["responses"]) == {"200", "400", "401", "500", "503"}
    assert dashboard["security"] == [{"bearerAuth": []}]
    assert "parameters" not in dashboard
    overview = document["paths"]["/api/v1/users/{id}/profile-overview"]["get"]
    assert set(overview["responses"]) == {"200", "404", "500", "503"}
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "userId" not in json.dumps(document)


def test_the_service_recovers_after_its_workers_are_closed(make_client: MakeClient) -> None:
    """Closing the worker pool (an app shutting down) does not break a later request."""
    from artist_dashboard._http.service import DashboardHttp

    http = DashboardHttp(demo_store().repos, AUTH, FixedClock(DEMO_NOW))
    assert http.dashboard(authorization=f"Bearer {token()}", query="").status == 200
    http.close()
    assert http.dashboard(authorization=f"Bearer {token()}", query="").status == 200
    http.close()


class CountingStore(InMemoryStore):
    builds = 0

    def get_user(self, user_id: str) -> User | None:
        CountingStore.builds += 1
        return super().get_user(user_id)


def test_the_opt_in_cache_reuses_a_users_own_dashboard_only(make_client: MakeClient) -> None:
    """With cache_seconds, a second request of the same user within the time reuses the
    built bytes; another user's request is built for that user."""
    store = CountingStore(two_artists().users, two_artists().posts, two_artists().follows)
    CountingStore.builds = 0
    client = make_client(store.repos, clock=CLOCK, cache_seconds=60)
    first = client.token(token("artist-a"))
    again = client.token(token("artist-a"))
    other = client.token(token("artist-b"))
    assert first.body == again.body
    assert CountingStore.builds == 2  # artist-a once, artist-b once
    assert other.json()["profile"]["_id"] == "artist-b"
    assert again.headers["cache-control"] == "private, no-store"


def test_without_the_cache_every_request_is_built(make_client: MakeClient) -> None:
    """The default builds each request afresh."""
    store = CountingStore(two_artists().users, two_artists().posts, two_artists().follows)
    CountingStore.builds = 0
    client = make_client(store.repos, clock=CLOCK)
    client.token(token("artist-a"))
    client.token(token("artist-a"))
    assert CountingStore.builds == 2


def test_a_remembered_token_is_refused_once_it_expires() -> None:
    """A verified token is remembered only until its exp: after that it is checked again."""
    strict = JwtAuthenticator.from_secret(SECRET, leeway=0)
    short = jwt.encode({"sub": "u1", "exp": int(time.time()) + 1}, SECRET, "HS256")
    assert strict.authenticate(short) == "u1"
    assert strict.authenticate(short) == "u1"
    time.sleep(2.1)
    with pytest.raises(InvalidToken):
        strict.authenticate(short)


# --- hardening: ambiguous credentials, unreadable claims, unstorable ids, safe logs --------


class _Refusing:
    """A store that fails the test if it is asked anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was asked {name}")


def test_two_authorization_headers_are_refused(make_client: MakeClient) -> None:
    """Two Authorization headers are ambiguous: 400 invalid_request, whichever comes first."""
    client = make_client(demo_store().repos, clock=FixedClock(DEMO_NOW))
    good, other = f"Bearer {token()}", f"Bearer {token('someone-else')}"
    for pair in ([good, other], [other, good], [good, good]):
        answer = client.get(DASHBOARD, [("Authorization", value) for value in pair])
        assert answer.status == 400
        assert answer.headers["www-authenticate"] == 'Bearer error="invalid_request"'
        assert answer.headers["content-type"] == "application/problem+json"
        assert b"stats" not in answer.body


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 10**400},
        {"exp": "soon"},
        {"sub": "\ud800"},
        {"sub": "a\x00b"},
        {"sub": "x" * 600},
        {"sub": 12},
    ],
    ids=["huge exp", "text exp", "lone surrogate sub", "NUL in sub", "600-byte sub", "number sub"],
)
def test_validly_signed_tokens_with_unreadable_claims_are_401(
    make_client: MakeClient, claims: dict[str, Any]
) -> None:
    """A token signed with the right key but carrying claims no user can have: 401, never a
    500 or a 503, and storage is never asked."""
    payload = {"sub": DEMO_USER_ID, "exp": int(time.time()) + 600, **claims}
    signed = jwt.encode(payload, SECRET, "HS256")
    client = make_client(Repos.of(_Refusing()))
    answer = client.token(signed)
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("user_id", ["a%00b", "%00", "x" * 600])
def test_a_profile_id_no_store_can_hold_is_404_before_storage(
    make_client: MakeClient, user_id: str
) -> None:
    """A NUL in the id, or an over-long id: 404, not a false outage, and no query."""
    client = make_client(Repos.of(_Refusing()))
    answer = client.get(f"/api/v1/users/{user_id}/profile-overview")
    assert answer.status == 404
    assert answer.headers["content-type"] == "application/problem+json"


class _FailingWithSecrets:
    """A store whose failure's message quotes a statement and its parameters."""

    def get_user(self, user_id: str) -> User | None:
        raise RuntimeError(
            f"SELECT * FROM users WHERE id = %(id)s\n[parameters: {{'id': {user_id!r}}}]"
        )


def test_a_storage_failure_log_line_carries_no_sql_and_no_parameters(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """503 for the client; one log line naming the failure's kind, without its message."""
    client = make_client(Repos.of(_FailingWithSecrets()))
    with caplog.at_level(logging.WARNING, logger="artist_dashboard"):
        answer = client.get("/api/v1/users/secret-id-42/profile-overview")
    assert answer.status == 503
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "RuntimeError" in logged
    assert "secret-id-42" not in logged
    assert "SELECT" not in logged


def test_the_access_log_escapes_control_characters(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    """A %0A or %0D in the path is written as an escape: one request, one log line."""
    client = make_client(demo_store().repos)
    with caplog.at_level(logging.INFO, logger="artist_dashboard.access"):
        client.get("/nothing%0A200%20GET%20/forged%0D")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "artist_dashboard.access"]
    assert "\n" not in line
    assert "\r" not in line
    assert "\\n200 GET /forged\\r" in line


def test_readiness_says_whether_storage_answers(make_client: MakeClient) -> None:
    """/readyz is 200 while the store's check passes, and a 503 problem when it fails."""

    def failing() -> None:
        raise OSError("the database is gone")

    store = demo_store()
    assert make_client(store.repos).get("/readyz").status == 200
    down = Repos(users=store, posts=store, follows=store, check=failing)
    answer = make_client(down).get("/readyz")
    assert answer.status == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert "retry-after" in answer.headers


# --- the chart as CSV ----------------------------------------------------------------------

CHART = "/api/v1/users/me/dashboard/chart.csv"


def test_the_chart_csv_is_the_users_own_chart_and_private(make_client: MakeClient) -> None:
    """text/csv; charset=utf-8, private and no-store, exactly the chart of the user's own
    dashboard."""
    from artist_dashboard.demo import demo_analytics_dashboard, demo_analytics_store
    from artist_dashboard.wire import chart_csv

    client = make_client(demo_analytics_store().repos, clock=FixedClock(DEMO_NOW))
    answer = client.token(token(), CHART)
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.body.decode() == chart_csv(demo_analytics_dashboard())
    assert answer.body.count(b"\n") == 31


def test_an_unavailable_chart_is_the_header_alone(make_client: MakeClient) -> None:
    """Without events or daily analytics the CSV is the header and nothing else."""
    from artist_dashboard.wire import CHART_CSV_HEADER

    client = make_client(demo_store().repos, clock=FixedClock(DEMO_NOW))
    assert client.token(token(), CHART).body.decode() == CHART_CSV_HEADER + "\n"


def test_the_chart_csv_has_the_dashboards_errors(make_client: MakeClient) -> None:
    """401 without a token, 400 for a query parameter, 503 when storage fails — problem+json."""

    class Broken:
        def get_user(self, user_id: str) -> User | None:
            raise RuntimeError("down")

    client = make_client(demo_store().repos, clock=FixedClock(DEMO_NOW))
    missing = client.get(CHART)
    assert (missing.status, missing.headers["www-authenticate"]) == (401, "Bearer")
    assert client.get(f"{CHART}?userId=x", {"Authorization": f"Bearer {token()}"}).status == 400
    failing = make_client(Repos.of(Broken())).token(token(), CHART)
    assert failing.status == 503
    for answer in (missing, failing):
        assert answer.headers["content-type"] == "application/problem+json"
