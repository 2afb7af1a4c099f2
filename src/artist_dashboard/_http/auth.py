"""HTTP adapter: authentication, the port (a bearer token -> a user id) and its JWT implementation.

The HTTP layers ask an `Authenticator` who a token belongs to; a team plugs in its own (a
session lookup, an OAuth introspection call) or uses `JwtAuthenticator`, configured from the
environment (SPEC §8):

- ``ARTIST_DASHBOARD_JWT_SECRET``: an HS256 secret of at least 32 bytes, or
- ``ARTIST_DASHBOARD_JWT_PUBLIC_KEY``: a PEM public key; RS256 for an RSA key, ES256 for an
  EC P-256 key (the key's type pins the algorithm);
- ``ARTIST_DASHBOARD_JWT_ISSUER`` / ``ARTIST_DASHBOARD_JWT_AUDIENCE``: checked when set.

The algorithm is pinned by the configuration, never taken from the token (so ``alg: none`` and
HS256-signed-with-the-public-key tokens are refused); ``exp`` and ``sub`` are required; a
leeway of 30 seconds absorbs clock skew. Needs PyJWT (the ``asgi`` or ``flask`` extra).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

import jwt
from attrs import field, frozen

from .._core.errors import DashboardError
from .._core.values import is_storable_id

__all__ = [
    "AuthConfigError",
    "Authenticator",
    "InvalidToken",
    "JwtAuthenticator",
    "mint_token",
]

SECRET_VARIABLE = "ARTIST_DASHBOARD_JWT_SECRET"
PUBLIC_KEY_VARIABLE = "ARTIST_DASHBOARD_JWT_PUBLIC_KEY"
ISSUER_VARIABLE = "ARTIST_DASHBOARD_JWT_ISSUER"
AUDIENCE_VARIABLE = "ARTIST_DASHBOARD_JWT_AUDIENCE"
MIN_SECRET_BYTES = 32
LEEWAY_SECONDS = 30


class InvalidToken(DashboardError):
    """The token is malformed, expired, wrongly signed or lacks a required claim."""


class AuthConfigError(DashboardError):
    """The authentication settings cannot be used (missing, short or unreadable key)."""


class Authenticator(Protocol):
    def authenticate(self, token: str) -> str:
        """The user id the bearer `token` was issued to; raises `InvalidToken` otherwise."""


def _algorithm_for(public_key: str) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key = load_pem_public_key(public_key.encode())
    except ValueError:
        raise AuthConfigError(f"{PUBLIC_KEY_VARIABLE} is not a PEM public key") from None
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1":
        return "ES256"
    raise AuthConfigError(f"{PUBLIC_KEY_VARIABLE} must be an RSA or EC P-256 public key")


class _Verified:
    """Tokens already verified, by their exact text, until they expire (bounded, thread-safe).

    A client sends the same token on every request for its lifetime; checking its signature
    once is enough. An entry is used only while its ``exp`` (plus the leeway) has not passed.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> str | None:
        with self._lock:
            entry = self._entries.get(token)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def put(self, token: str, subject: str, valid_until: float) -> None:
        with self._lock:
            self._entries[token] = (subject, valid_until)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


@frozen
class JwtAuthenticator:
    """Verifies JWTs with one pinned algorithm; the token's ``sub`` is the user id."""

    key: str = field(repr=False)
    algorithm: str
    issuer: str | None = None
    audience: str | None = None
    leeway: int = LEEWAY_SECONDS
    _verified: _Verified = field(factory=_Verified, init=False, repr=False, eq=False)

    @classmethod
    def from_secret(cls, secret: str, **claims: Any) -> JwtAuthenticator:
        if len(secret.encode()) < MIN_SECRET_BYTES:
            raise AuthConfigError(
                f"{SECRET_VARIABLE} must be at least {MIN_SECRET_BYTES} bytes "
                f"(got {len(secret.encode())})"
            )
        return cls(key=secret, algorithm="HS256", **claims)

    @classmethod
    def from_public_key(cls, pem: str, **claims: Any) -> JwtAuthenticator:
        return cls(key=pem, algorithm=_algorithm_for(pem), **claims)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JwtAuthenticator:
        """Configure from the environment; `AuthConfigError` says what is missing or wrong."""
        env = os.environ if environ is None else environ
        secret, pem = env.get(SECRET_VARIABLE), env.get(PUBLIC_KEY_VARIABLE)
        claims = {"issuer": env.get(ISSUER_VARIABLE) or None}
        claims["audience"] = env.get(AUDIENCE_VARIABLE) or None
        if secret and pem:
            raise AuthConfigError(f"set {SECRET_VARIABLE} or {PUBLIC_KEY_VARIABLE}, not both")
        if pem:
            return cls.from_public_key(pem, **claims)
        if not secret:
            raise AuthConfigError(
                f"set {SECRET_VARIABLE} to a secret of at least {MIN_SECRET_BYTES} bytes "
                f"(e.g. {secrets.token_hex(MIN_SECRET_BYTES)}) or {PUBLIC_KEY_VARIABLE}"
            )
        return cls.from_secret(secret, **claims)

    def authenticate(self, token: str) -> str:
        known = self._verified.get(token)
        if known is not None:
            return known
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=[self.algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self.audience is not None,
                    "verify_iss": self.issuer is not None,
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(type(exc).__name__) from None
        except (ValueError, TypeError, OverflowError) as exc:
            # PyJWT lets some malformed claims through as other errors (an ``exp`` of 10**400
            # overflows a float): a token it cannot read is an invalid token, never a 500.
            raise InvalidToken(type(exc).__name__) from None
        subject = claims.get("sub")
        if not is_storable_id(subject):
            raise InvalidToken("sub is not a user id")
        assert isinstance(subject, str)
        try:
            valid_until = float(claims["exp"]) + self.leeway
        except (ValueError, TypeError, OverflowError):
            raise InvalidToken("exp is not a time") from None
        self._verified.put(token, subject, valid_until)
        return subject


def mint_token(user_id: str, authenticator: JwtAuthenticator, *, ttl_seconds: int = 3600) -> str:
    """A development token for `user_id`, valid for `ttl_seconds`, signed with the secret."""
    if authenticator.algorithm != "HS256":
        raise AuthConfigError(f"minting needs {SECRET_VARIABLE}; a public key cannot sign")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    if authenticator.issuer:
        claims["iss"] = authenticator.issuer
    if authenticator.audience:
        claims["aud"] = authenticator.audience
    return jwt.encode(claims, authenticator.key, algorithm="HS256")
