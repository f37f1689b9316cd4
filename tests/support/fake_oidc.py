"""A local OpenID Connect provider speaking the real wire format: discovery, the authorization endpoint
(which signs in whoever the test says, at once), the token endpoint and the JWKS. ID tokens are RS256
JWTs signed with a key made for the run; a test may ask for a broken one to see it refused."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeOidc:
    client_id: str
    client_secret: str
    claims: dict[str, Any] = field(default_factory=dict)  # who signs in next
    issuer_template: str = ""  # "{base}/{tenantid}/v2.0" for an Entra-like multi-tenant authority
    tamper: str = ""  # "audience" | "expired" | "signature" | "nonce" | "issuer"
    key: rsa.RSAPrivateKey = field(default_factory=_key)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    server: TestServer | None = None

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def issuer(self, tid: str | None = None) -> str:
        if not self.issuer_template:
            return self.base
        template = self.issuer_template.replace("{base}", self.base)
        return template.replace("{tenantid}", tid) if tid else template

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self.discovery)
        app.router.add_get("/authorize", self.authorize)
        app.router.add_post("/token", self.token)
        app.router.add_get("/jwks", self.jwks)
        self.server = TestServer(app)
        await self.server.start_server()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    async def discovery(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "issuer": self.issuer(),
                "authorization_endpoint": f"{self.base}/authorize",
                "token_endpoint": f"{self.base}/token",
                "jwks_uri": f"{self.base}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            }
        )

    async def authorize(self, request: web.Request) -> web.Response:
        q = request.query
        if (
            q.get("client_id") != self.client_id
            or q.get("response_type") != "code"
            or "openid" not in q.get("scope", "")
        ):
            return web.json_response({"error": "invalid_request"}, status=400)
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q.get("nonce", ""), "redirect_uri": q["redirect_uri"]}
        raise web.HTTPFound(q["redirect_uri"] + "?" + urlencode({"code": code, "state": q.get("state", "")}))

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        issued = self.codes.pop(str(form.get("code")), None)
        if (
            issued is None
            or form.get("client_id") != self.client_id
            or form.get("client_secret") != self.client_secret
            or form.get("redirect_uri") != issued["redirect_uri"]
            or form.get("grant_type") != "authorization_code"
        ):
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims = {
            "iss": self.issuer(self.claims.get("tid")),
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": issued["nonce"],
            **self.claims,
        }
        if self.tamper == "audience":
            claims["aud"] = "someone-else"
        elif self.tamper == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif self.tamper == "nonce":
            claims["nonce"] = "replayed"
        elif self.tamper == "issuer":
            claims["iss"] = "https://impostor.example"
        key = _key() if self.tamper == "signature" else self.key
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        return web.json_response({"access_token": "at", "token_type": "Bearer", "id_token": token})

    async def jwks(self, request: web.Request) -> web.Response:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": [jwk]})
