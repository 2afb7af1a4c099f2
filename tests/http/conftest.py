"""One client interface over both framework layers, so every HTTP test runs on ASGI and Flask."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from attrs import frozen

pytest.importorskip("jwt", reason="PyJWT (the asgi or flask extra) is not installed")

from artist_dashboard import Repos
from artist_dashboard.auth import Authenticator, JwtAuthenticator, mint_token
from artist_dashboard.demo import DEMO_USER_ID
from artist_dashboard.typing import Clock

SECRET = "test-secret-of-more-than-thirty-two-bytes!"
AUTH = JwtAuthenticator.from_secret(SECRET)


def token(user_id: str = DEMO_USER_ID) -> str:
    """A valid token for `user_id`, signed with `SECRET`."""
    return mint_token(user_id, AUTH)


@frozen
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


#: Request headers: a mapping, or pairs when a name repeats.
Headers = dict[str, str] | list[tuple[str, str]]


class Client:
    """Sends a request through one framework layer's test client."""

    def __init__(self, send: Callable[[str, str, Headers], Answer]) -> None:
        self._send = send

    def get(self, path: str, headers: Headers | None = None) -> Answer:
        return self._send("GET", path, headers or {})

    def request(self, method: str, path: str, headers: Headers | None = None) -> Answer:
        return self._send(method, path, headers or {})

    def token(self, token: str, path: str = "/api/v1/users/me/dashboard") -> Answer:
        return self.get(path, {"Authorization": f"Bearer {token}"})


MakeClient = Callable[..., Client]


def _asgi(
    repos: Repos, authenticator: Authenticator, clock: Clock | None, **kw: Any
) -> Iterator[Client]:
    pytest.importorskip("starlette", reason="the asgi extra is not installed")
    from starlette.testclient import TestClient

    from artist_dashboard.asgi import create_app

    with TestClient(
        create_app(repos, authenticator, clock, **kw), raise_server_exceptions=False
    ) as test:

        def send(method: str, path: str, headers: Headers) -> Answer:
            reply = test.request(method, path, headers=headers)
            return Answer(
                reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.content
            )

        yield Client(send)


def _flask(
    repos: Repos, authenticator: Authenticator, clock: Clock | None, **kw: Any
) -> Iterator[Client]:
    pytest.importorskip("flask", reason="the flask extra is not installed")
    from artist_dashboard.flask import create_app

    test = create_app(repos, authenticator, clock, **kw).test_client()

    def send(method: str, path: str, headers: Headers) -> Answer:
        reply = test.open(path, method=method, headers=headers)
        return Answer(
            reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.data
        )

    yield Client(send)


@pytest.fixture(params=["asgi", "flask"])
def make_client(request: pytest.FixtureRequest) -> Iterator[MakeClient]:
    """Builds a client over the requested framework layer; closed at the end of the test."""
    opened: list[Iterator[Client]] = []
    factory = _asgi if request.param == "asgi" else _flask

    def make(
        repos: Repos, authenticator: Authenticator = AUTH, clock: Clock | None = None, **kw: Any
    ) -> Client:
        generator = factory(repos, authenticator, clock, **kw)
        opened.append(generator)
        return next(generator)

    yield make
    for generator in opened:
        generator.close()
