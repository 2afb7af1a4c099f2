"""Tokens as identity providers issue them: a configurable user claim, keys from a JWKS URL."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

jwt = pytest.importorskip("jwt")

from artist_dashboard.auth import (  # noqa: E402
    AuthConfigError,
    InvalidToken,
    JwtAuthenticator,
    mint_token,
)
from artist_dashboard.demo import DEMO_USER_ID, demo_store  # noqa: E402

from .conftest import SECRET, MakeClient  # noqa: E402


class KeySet:
    """A JWKS endpoint on 127.0.0.1 whose keys a test can rotate, take down, hold and count."""

    def __init__(self) -> None:
        self.private: dict[str, Any] = {}
        self.public: list[dict[str, Any]] = []
        self.fetches = 0
        self.down = False
        self.gate = threading.Event()
        self.gate.set()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.gate.wait(timeout=10)
                owner.fetches += 1
                if owner.down:
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps({"keys": owner.public}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add_key(self, kid: str) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.public.append({**public, "kid": kid, "use": "sig", "alg": "RS256"})
        self.private[kid] = key

    def remove_key(self, kid: str) -> None:
        self.public = [k for k in self.public if k["kid"] != kid]

    def token(self, kid: str, **claims: Any) -> str:
        payload = {"sub": DEMO_USER_ID, "exp": int(time.time()) + 600, **claims}
        return str(jwt.encode(payload, self.private[kid], "RS256", headers={"kid": kid}))


@pytest.fixture
def key_set() -> Iterator[KeySet]:
    keys = KeySet()
    yield keys
    keys.gate.set()
    keys.server.shutdown()
    keys.server.server_close()


def test_the_user_id_comes_from_the_configured_claim(make_client: MakeClient) -> None:
    """With the user claim set to ``uid`` (``sub`` holding a login id), the dashboard is the
    ``uid``'s; a token without ``uid`` is 401 even with a ``sub``."""
    authenticator = JwtAuthenticator.from_env(
        {"ARTIST_DASHBOARD_JWT_SECRET": SECRET, "ARTIST_DASHBOARD_JWT_USER_CLAIM": "uid"}
    )
    client = make_client(demo_store().repos, authenticator)
    exp = int(time.time()) + 600
    good = jwt.encode({"sub": "login-42", "uid": DEMO_USER_ID, "exp": exp}, SECRET, "HS256")
    answer = client.token(good)
    assert answer.status == 200
    assert answer.json()["profile"]["_id"] == DEMO_USER_ID
    missing = jwt.encode({"sub": DEMO_USER_ID, "exp": exp}, SECRET, "HS256")
    assert client.token(missing).status == 401
    assert authenticator.authenticate(mint_token("u9", authenticator)) == "u9"


def test_keys_from_a_jwks_url_verify_tokens_by_kid(
    make_client: MakeClient, key_set: KeySet
) -> None:
    """A token signed by a key of the set is accepted; one signed by a key the set does not
    hold, or naming an unknown ``kid``, is 401, not 500."""
    key_set.add_key("k1")
    client = make_client(
        demo_store().repos,
        JwtAuthenticator.from_env({"ARTIST_DASHBOARD_JWT_JWKS_URL": key_set.url}),
    )
    assert client.token(key_set.token("k1")).status == 200
    stranger = KeySet()
    try:
        stranger.add_key("k1")
        assert client.token(stranger.token("k1")).status == 401  # right kid, wrong key
        stranger.add_key("k-unknown")
        answer = client.token(stranger.token("k-unknown"))
    finally:
        stranger.server.shutdown()
        stranger.server.server_close()
    assert answer.status == 401
    assert answer.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_a_rotated_key_is_fetched_once_the_cooldown_allows(key_set: KeySet) -> None:
    """After the provider rotates its keys, a token with the new ``kid`` is accepted: at once
    when the cooldown has passed, and never by fetching the set for every unknown ``kid``."""
    key_set.add_key("old")
    authenticator = JwtAuthenticator.from_jwks_url(key_set.url, cooldown=0.3)
    assert authenticator.authenticate(key_set.token("old")) == DEMO_USER_ID
    key_set.add_key("new")
    key_set.remove_key("old")
    fetches = key_set.fetches
    for _ in range(5):  # inside the cooldown: the known set answers, the provider is spared
        with pytest.raises(InvalidToken):
            authenticator.authenticate(key_set.token("new"))
    assert key_set.fetches == fetches
    time.sleep(0.35)
    assert authenticator.authenticate(key_set.token("new")) == DEMO_USER_ID
    assert key_set.fetches == fetches + 1


def test_the_periodic_refresh_never_holds_up_a_request(key_set: KeySet) -> None:
    """Once the set is older than its lifespan, a request is answered from the known keys
    while the set is fetched again on another thread, however slow the provider is."""
    key_set.add_key("k1")
    authenticator = JwtAuthenticator.from_jwks_url(key_set.url, lifespan=0.05)
    assert authenticator.authenticate(key_set.token("k1")) == DEMO_USER_ID
    time.sleep(0.1)
    key_set.gate.clear()  # the provider now answers only when the test lets it
    answered: list[str] = []
    request = threading.Thread(
        target=lambda: answered.append(authenticator.authenticate(key_set.token("k1", n=2)))
    )
    request.start()
    request.join(timeout=5)
    assert answered == [DEMO_USER_ID]  # answered while the provider was still held
    fetches = key_set.fetches
    key_set.gate.set()
    for _ in range(100):
        if key_set.fetches > fetches:
            break
        time.sleep(0.02)
    assert key_set.fetches == fetches + 1  # the refresh went through, once


def test_an_unreachable_key_set_is_503_and_known_keys_outlive_an_outage(
    make_client: MakeClient, key_set: KeySet
) -> None:
    """With no key fetched yet and the provider down, the request is 503 with Retry-After;
    once keys are known, an outage at refresh time keeps them working."""
    key_set.add_key("k1")
    key_set.down = True
    client = make_client(demo_store().repos, JwtAuthenticator.from_jwks_url(key_set.url))
    answer = client.token(key_set.token("k1"))
    assert answer.status == 503
    assert "retry-after" in answer.headers
    key_set.down = False
    authenticator = JwtAuthenticator.from_jwks_url(key_set.url, lifespan=0.1, cooldown=0)
    assert authenticator.authenticate(key_set.token("k1")) == DEMO_USER_ID
    key_set.down = True
    time.sleep(0.15)
    assert authenticator.authenticate(key_set.token("k1", nonce=1)) == DEMO_USER_ID


def test_a_symmetric_key_in_the_set_verifies_nothing(key_set: KeySet) -> None:
    """A shared-secret (``oct``) key published in the set by mistake is never used: a token
    signed with that secret is refused."""
    secret = SECRET.encode()
    oct_key = jwt.algorithms.HMACAlgorithm.to_jwk(secret, as_dict=True)
    key_set.public.append({**oct_key, "kid": "shared", "alg": "HS256"})
    authenticator = JwtAuthenticator.from_jwks_url(key_set.url)
    forged = jwt.encode(
        {"sub": DEMO_USER_ID, "exp": int(time.time()) + 60},
        secret,
        "HS256",
        headers={"kid": "shared"},
    )
    with pytest.raises(InvalidToken):
        authenticator.authenticate(forged)


def test_key_settings_are_one_of_three() -> None:
    """A secret, a public key and a JWKS URL exclude each other; the URL must be http(s)."""
    with pytest.raises(AuthConfigError, match="set one of"):
        JwtAuthenticator.from_env(
            {
                "ARTIST_DASHBOARD_JWT_SECRET": SECRET,
                "ARTIST_DASHBOARD_JWT_JWKS_URL": "https://id.example/jwks",
            }
        )
    with pytest.raises(AuthConfigError, match="http"):
        JwtAuthenticator.from_env({"ARTIST_DASHBOARD_JWT_JWKS_URL": "file:///etc/keys"})
