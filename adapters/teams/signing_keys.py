"""The Bot Framework's token signing keys, fetched without ever holding up the server.

The SDK (botframework-connector 4.17) fetches its OpenID metadata and signing keys with a blocking HTTP
call without a timeout, on the event loop, before any signature is checked, and again on every request
while the endpoint fails: a slow or unreachable metadata endpoint froze every request of the server,
Slack's acknowledgements included, and an unsigned token was enough to make it try.

Here the SDK asks `SigningKeys` instead (installed in place of its key cache, see `install`):
- keys are fetched with aiohttp, each document within `FETCH_TIMEOUT`, one fetch at a time per endpoint
  (requests that need keys meanwhile wait for that one fetch);
- they are kept for their lifetime (the key set's `Cache-Control: max-age`, else a day) and refreshed in
  the background once it is over, the last good keys serving meanwhile, and whenever they fail;
- a key id nobody has seen makes one refresh at most every `UNKNOWN_KEY_REFRESH`;
- after a failed fetch, none is tried again before a growing pause (1 s, 2 s, 4 s … 5 minutes); a token
  that needs keys while there are none is answered at once (`KeysUnavailable`, a 503), not after a wait.

`token_problem` rejects a malformed or unsigned token before anything is fetched at all.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger("intake.teams")

FETCH_TIMEOUT = 5.0  # seconds for each of the two documents (the metadata, then the key set)
DEFAULT_LIFETIME = 24 * 3600.0  # seconds keys are kept when the endpoint does not say
SHORTEST_LIFETIME = 5 * 60.0
LONGEST_LIFETIME = 5 * 24 * 3600.0
UNKNOWN_KEY_REFRESH = 5 * 60.0  # at most one refresh this often for a key id that is not in the set
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0, 300.0)  # seconds before the next try after failures
MAX_TOKEN = 6 * 1024  # characters; the Bot Framework's tokens are about 1,500
ALGORITHMS = ("RS256", "RS384", "RS512")  # the SDK's AuthenticationConstants.ALLOWED_SIGNING_ALGORITHMS
LEEWAY = 5 * 60  # seconds of clock difference the SDK allows


class KeysUnavailable(Exception):
    """No signing keys could be fetched (the endpoint is slow, down, or answers nonsense): a token cannot be
    checked now. Not the sender's fault: answered with 503."""


@dataclass(frozen=True)
class SigningKey:
    """What the SDK reads from a key (its `_OpenIdConfig`)."""

    public_key: Any
    endorsements: list[str]


_B64URL = re.compile(r"[A-Za-z0-9_-]+")


def token_problem(auth_header: str | None) -> str | None:
    """What makes an Authorization header not worth checking against the signing keys, or None. Needs no
    keys: a malformed, unsigned or expired token is refused before anything is fetched."""
    if auth_header is None:
        return None  # no token at all: the SDK decides (only the local-emulator mode accepts that)
    scheme, _, token = auth_header.partition(" ")
    if scheme != "Bearer" or not token or " " in token:
        return "not a Bearer token"
    if len(token) > MAX_TOKEN:
        return "the token is too long"
    parts = token.split(".")
    if len(parts) != 3 or not all(_B64URL.fullmatch(p) for p in parts):
        return "not a signed JWT"
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        return "the token cannot be read"
    if header.get("alg") not in ALGORITHMS:
        return f"the token is not signed with {'/'.join(ALGORITHMS)}"
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid or len(kid) > 200:
        return "the token names no signing key"
    if not isinstance(claims.get("iss"), str):
        return "the token names no issuer"
    now = time.time()
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, int | float) or exp + LEEWAY < now:
        return "the token has expired"
    if nbf is not None and (not isinstance(nbf, int | float) or nbf - LEEWAY > now):
        return "the token is not valid yet"
    return None


@dataclass
class SigningKeys:
    """The keys of one OpenID metadata endpoint. `get(key_id)` is what the SDK calls."""

    url: str
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched_at: float = 0.0  # monotonic time of the last good fetch; 0: never
    lifetime: float = DEFAULT_LIFETIME
    failures: int = 0
    next_try: float = 0.0  # monotonic time before which no fetch is tried (after a failure)
    fetches: int = 0  # fetches started (for tests and the log)
    _task: asyncio.Task[bool] | None = None
    _converted: dict[str, SigningKey] = field(default_factory=dict)

    async def get(self, key_id: str | None) -> SigningKey | None:
        """The key `key_id`, or None when the endpoint does not have it. Raises `KeysUnavailable` when there
        are no keys at all and none can be fetched now."""
        now = time.monotonic()
        if not self.keys:
            if not await self._refresh_now(now):
                raise KeysUnavailable(f"no signing keys from {self.url} ({self.failures} failed fetches)")
        elif now - self.fetched_at > self.lifetime:
            self._refresh_later(now)  # the last good keys serve meanwhile
        key = self._find(key_id)
        if key is None and now - self.fetched_at > UNKNOWN_KEY_REFRESH:
            # A key id not in the set: maybe the endpoint rotated its keys since.
            await self._refresh_now(now)
            key = self._find(key_id)
        return key

    def _find(self, key_id: str | None) -> SigningKey | None:
        if not key_id or key_id not in self.keys:
            return None
        key = self._converted.get(key_id)
        if key is None:
            jwk = self.keys[key_id]
            key = SigningKey(RSAAlgorithm.from_jwk(json.dumps(jwk)), list(jwk.get("endorsements") or []))
            self._converted[key_id] = key
        return key

    def _running(self) -> asyncio.Task[bool] | None:
        task = self._task
        if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
            return None
        return task

    def _start(self, now: float) -> asyncio.Task[bool] | None:
        """The fetch under way, or a new one; None while failures say to wait."""
        task = self._running()
        if task is None:
            if now < self.next_try:
                return None
            self.fetches += 1
            task = self._task = asyncio.get_running_loop().create_task(self._fetch(), name="teams-signing-keys")
        return task

    async def _refresh_now(self, now: float) -> bool:
        """Fetch (or wait for the fetch under way) and return whether there are keys now."""
        task = self._start(now)
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), 2 * FETCH_TIMEOUT + 1)
            except TimeoutError:
                pass
        return bool(self.keys)

    def _refresh_later(self, now: float) -> None:
        self._start(now)

    async def _fetch(self) -> bool:
        try:
            timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(self.url) as resp:
                    resp.raise_for_status()
                    metadata = await resp.json(content_type=None)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str) or not jwks_uri.startswith(("https://", "http://")):
                    raise ValueError("the metadata names no jwks_uri")
                async with session.get(jwks_uri) as resp:
                    resp.raise_for_status()
                    document = await resp.json(content_type=None)
                    lifetime = max_age(resp.headers.get("Cache-Control"))
            keys = document.get("keys") if isinstance(document, dict) else None
            if not isinstance(keys, list):
                raise ValueError("the key set has no keys")
            usable = {k["kid"]: k for k in keys if isinstance(k, dict) and isinstance(k.get("kid"), str)}
            if not usable:
                raise ValueError("the key set has no keys with an id")
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError, KeyError) as exc:
            self.failures += 1
            pause = BACKOFF[min(self.failures, len(BACKOFF)) - 1]
            self.next_try = time.monotonic() + pause
            kept = f"keeping the {len(self.keys)} keys fetched before" if self.keys else "no keys yet"
            log.warning(
                "teams: fetching signing keys from %s failed (%s: %s); %s; next try in %.0f s",
                self.url,
                type(exc).__name__,
                exc,
                kept,
                pause,
            )
            return False
        self.keys, self._converted = usable, {}
        self.fetched_at = time.monotonic()
        self.lifetime = lifetime if lifetime is not None else DEFAULT_LIFETIME
        self.failures, self.next_try = 0, 0.0
        log.info("teams: %d signing keys from %s, kept for %.0f s", len(usable), self.url, self.lifetime)
        return True


def max_age(cache_control: str | None) -> float | None:
    """The `max-age` of a Cache-Control header, within [5 minutes, 5 days]; None when it names none."""
    m = re.search(r"max-age=(\d+)", cache_control or "")
    if not m:
        return None
    return min(max(float(m.group(1)), SHORTEST_LIFETIME), LONGEST_LIFETIME)


class Keyring:
    """Every metadata endpoint's keys, for one server (kept on the app)."""

    def __init__(self) -> None:
        self.endpoints: dict[str, SigningKeys] = {}

    def for_url(self, url: str) -> SigningKeys:
        keys = self.endpoints.get(url)
        if keys is None:
            keys = self.endpoints[url] = SigningKeys(url)
        return keys


# The keyring of the server whose request is being authenticated (the route sets it for its task): the
# SDK looks keys up by URL from a static method, with no way to hand it ours.
CURRENT: contextvars.ContextVar[Keyring] = contextvars.ContextVar("intake_teams_keyring")
_FALLBACK = Keyring()  # for a check made outside any request of ours (none is, today)


def _metadata_for(url: str) -> SigningKeys:
    return CURRENT.get(_FALLBACK).for_url(url)


def install() -> None:
    """Make the SDK take its signing keys from here instead of its blocking fetcher (idempotent)."""
    from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

    JwtTokenExtractor.get_open_id_metadata = staticmethod(_metadata_for)  # type: ignore[assignment,method-assign]
