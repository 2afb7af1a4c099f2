"""HTTP adapter: authentication, the port (a bearer token -> a user id) and its JWT implementation.

The HTTP layers ask an `Authenticator` who a token belongs to; a team plugs in its own (a
session lookup, an OAuth introspection call) or uses `JwtAuthenticator`, configured from the
environment (SPEC §8):

- ``ARTIST_DASHBOARD_JWT_SECRET``: an HS256 secret of at least 32 bytes, or
- ``ARTIST_DASHBOARD_JWT_PUBLIC_KEY``: a PEM public key; RS256 for an RSA key, ES256 for an
  EC P-256 key (the key's type pins the algorithm), or
- ``ARTIST_DASHBOARD_JWT_JWKS_URL``: the identity provider's JSON Web Key Set; a token's
  ``kid`` picks the key, and the key's own algorithm pins the token's;
- ``ARTIST_DASHBOARD_JWT_ISSUER`` / ``ARTIST_DASHBOARD_JWT_AUDIENCE``: checked when set;
- ``ARTIST_DASHBOARD_JWT_USER_CLAIM``: the claim holding the user id (default ``sub``).

The algorithm is pinned by the configuration, never taken from the token (so ``alg: none`` and
HS256-signed-with-the-public-key tokens are refused); ``exp`` and the user claim are required; a
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
    "JwksKeys",
    "JwtAuthenticator",
    "KeysUnavailable",
    "mint_token",
]

SECRET_VARIABLE = "ARTIST_DASHBOARD_JWT_SECRET"
PUBLIC_KEY_VARIABLE = "ARTIST_DASHBOARD_JWT_PUBLIC_KEY"
ISSUER_VARIABLE = "ARTIST_DASHBOARD_JWT_ISSUER"
AUDIENCE_VARIABLE = "ARTIST_DASHBOARD_JWT_AUDIENCE"
JWKS_URL_VARIABLE = "ARTIST_DASHBOARD_JWT_JWKS_URL"
USER_CLAIM_VARIABLE = "ARTIST_DASHBOARD_JWT_USER_CLAIM"
MIN_SECRET_BYTES = 32
LEEWAY_SECONDS = 30


class InvalidToken(DashboardError):
    """The token is malformed, expired, wrongly signed or lacks a required claim."""


class AuthConfigError(DashboardError):
    """The authentication settings cannot be used (missing, short or unreadable key)."""


class KeysUnavailable(DashboardError):
    """The identity provider's key set cannot be fetched and none is known yet (HTTP 503)."""


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


#: Algorithms a key from a key set may verify: public-key ones only, so a symmetric ("oct")
#: key published by mistake can never turn a public key set into a shared secret.
_PUBLIC_KEY_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class JwksKeys:
    """The signing keys an identity provider publishes at a JWKS URL, by ``kid``.

    The set is fetched on first use. After `lifespan` seconds it is fetched again on a
    thread of its own while the known keys keep answering, so the periodic refresh never holds
    up a request (authentication runs on the server's event loop). A ``kid`` not in the set
    fetches it at once (the provider has rotated its keys), but at most once every `cooldown`
    seconds, so tokens with made-up ``kid`` values cannot make the service hammer the provider.
    When a fetch fails, the keys already known keep working; with none known the request gets
    `KeysUnavailable` (503), never a 500 or a 401 for a valid token.
    """

    def __init__(
        self, url: str, *, lifespan: float = 300, cooldown: float = 30, timeout: float = 5
    ) -> None:
        self.url = url
        self.lifespan = lifespan
        self.cooldown = cooldown
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, timeout=timeout)
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self._refreshing = False

    def key_for(self, kid: object) -> jwt.PyJWK:
        """The key named `kid`; `InvalidToken` when the provider has no such key."""
        if not isinstance(kid, str):
            raise InvalidToken("the token names no key (kid)")
        with self._lock:
            now = time.monotonic()
            age = None if self._fetched_at is None else now - self._fetched_at
            if age is None or (kid not in self._keys and age >= self.cooldown):
                self._fetch(now)  # nothing known yet, or a rotation: the request must wait
            elif age > self.lifespan and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh, name="jwks-refresh", daemon=True).start()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken("no key of the key set has this kid")
        return key

    def _refresh(self) -> None:
        """The periodic fetch: the network outside the lock, so requests go on meanwhile."""
        try:
            keys = self._download()
            with self._lock:
                self._keep(keys, time.monotonic())
        finally:
            self._refreshing = False

    def _fetch(self, now: float) -> None:
        keys = self._download()
        if keys is None and not self._keys:
            raise KeysUnavailable(f"cannot fetch the key set at {self.url}")
        self._keep(keys, now)

    def _download(self) -> dict[str, jwt.PyJWK] | None:
        """The provider's signing keys by kid; None when they cannot be fetched."""
        try:
            return {k.key_id: k for k in self._client.get_signing_keys() if k.key_id}
        except Exception:  # PyJWT's errors, and a connection reset it lets through
            return None

    def _keep(self, keys: dict[str, jwt.PyJWK] | None, now: float) -> None:
        # A failed fetch keeps the known keys, and is tried again after the cooldown.
        if keys is not None:
            self._keys = keys
        self._fetched_at = now


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
    """Verifies JWTs with one pinned algorithm (or a key set's keys); a claim is the user id.

    - `key`: the HS256 secret or the PEM public key (unused with `jwks`);
    - `algorithm`: the one algorithm tokens must use (with `jwks`: each key's own);
    - `issuer`, `audience`: the ``iss`` and ``aud`` tokens must carry, when not None;
    - `user_claim`: the claim holding the user id (``sub`` by default; ``uid`` or a namespaced
      claim for providers whose ``sub`` is a login id);
    - `jwks`: the identity provider's keys (`JwksKeys`), picked by the token's ``kid``;
    - `leeway`: seconds of clock skew allowed on ``exp``, ``nbf`` and ``iat``.

    Build it with `from_secret`, `from_public_key`, `from_jwks_url` or `from_env`.
    """

    key: str = field(repr=False)
    algorithm: str
    issuer: str | None = None
    audience: str | None = None
    leeway: int = LEEWAY_SECONDS
    user_claim: str = "sub"
    jwks: JwksKeys | None = field(default=None, eq=False)
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
    def from_jwks_url(
        cls, url: str, *, lifespan: float = 300, cooldown: float = 30, **claims: Any
    ) -> JwtAuthenticator:
        """Keys from an identity provider's JWKS URL (Auth0, Cognito, Firebase, Keycloak);
        `lifespan` and `cooldown` as `JwksKeys` takes them."""
        if not url.startswith(("https://", "http://")):
            raise AuthConfigError(f"{JWKS_URL_VARIABLE} must be an http(s) URL")
        keys = JwksKeys(url, lifespan=lifespan, cooldown=cooldown)
        return cls(key="", algorithm="jwks", jwks=keys, **claims)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> JwtAuthenticator:
        """Configure from the environment; `AuthConfigError` says what is missing or wrong."""
        env = os.environ if environ is None else environ
        secret, pem, url = (
            env.get(SECRET_VARIABLE),
            env.get(PUBLIC_KEY_VARIABLE),
            env.get(JWKS_URL_VARIABLE),
        )
        claims: dict[str, Any] = {
            "issuer": env.get(ISSUER_VARIABLE) or None,
            "audience": env.get(AUDIENCE_VARIABLE) or None,
            "user_claim": env.get(USER_CLAIM_VARIABLE) or "sub",
        }
        if sum(1 for given in (secret, pem, url) if given) > 1:
            raise AuthConfigError(
                f"set one of {SECRET_VARIABLE}, {PUBLIC_KEY_VARIABLE} and {JWKS_URL_VARIABLE}"
            )
        if url:
            return cls.from_jwks_url(url, **claims)
        if pem:
            return cls.from_public_key(pem, **claims)
        if not secret:
            raise AuthConfigError(
                f"set {SECRET_VARIABLE} to a secret of at least {MIN_SECRET_BYTES} bytes "
                f"(e.g. {secrets.token_hex(MIN_SECRET_BYTES)}), {PUBLIC_KEY_VARIABLE} "
                f"or {JWKS_URL_VARIABLE}"
            )
        return cls.from_secret(secret, **claims)

    def authenticate(self, token: str) -> str:
        known = self._verified.get(token)
        if known is not None:
            return known
        try:
            key, algorithm = self._key_of(token)
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={
                    "require": ["exp", self.user_claim],
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
        subject = claims.get(self.user_claim)
        if not is_storable_id(subject):
            raise InvalidToken(f"{self.user_claim} is not a user id")
        assert isinstance(subject, str)
        try:
            valid_until = float(claims["exp"]) + self.leeway
        except (ValueError, TypeError, OverflowError):
            raise InvalidToken("exp is not a time") from None
        self._verified.put(token, subject, valid_until)
        return subject

    def _key_of(self, token: str) -> tuple[Any, str]:
        """The key and the one algorithm that may verify `token`."""
        if self.jwks is None:
            return self.key, self.algorithm
        kid = jwt.get_unverified_header(token).get("kid")
        found = self.jwks.key_for(kid)
        if found.algorithm_name not in _PUBLIC_KEY_ALGORITHMS:
            raise InvalidToken("the key set's key is not a public key")
        return found.key, found.algorithm_name


def mint_token(user_id: str, authenticator: JwtAuthenticator, *, ttl_seconds: int = 3600) -> str:
    """A development token for `user_id`, valid for `ttl_seconds`, signed with the secret."""
    if authenticator.algorithm != "HS256":
        raise AuthConfigError(f"minting needs {SECRET_VARIABLE}; a public key cannot sign")
    now = int(time.time())
    claims: dict[str, Any] = {
        authenticator.user_claim: user_id,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    if authenticator.issuer:
        claims["iss"] = authenticator.issuer
    if authenticator.audience:
        claims["aud"] = authenticator.audience
    return jwt.encode(claims, authenticator.key, algorithm="HS256")
