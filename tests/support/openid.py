"""A local fake of the Bot Framework's OpenID metadata endpoint and its key set (JWKS).

It serves `/.well-known/openidconfiguration` (naming `/keys` as the `jwks_uri`) and the key set with the
public half of a local RSA key, endorsed for `msteams`, and it counts the requests it gets. It can be
told to hang (answer nothing for a while), to fail (500) or to answer again, and to change its key
(a rotation). Served from a thread, so a client that blocks the event loop still gets its answer.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

ISSUER = "https://api.botframework.com"
KID = "test-key-1"
METADATA_PATH = "/.well-known/openidconfiguration"


class OpenIdServer:
    def __init__(self, key: rsa.RSAPrivateKey, *, kid: str = KID) -> None:
        self.key, self.kid = key, kid
        self.requests: list[str] = []  # paths asked for, in order
        self.hang_seconds = 0.0  # answer nothing for this long (then the document)
        self.status = 200  # anything else: answer with it and no document
        self.max_age: int | None = None  # Cache-Control: max-age of the key set
        self.asked = threading.Event()  # set at each request
        # How each hang ended: "answered" (told to answer) or "gave up" (its time ran out first).
        self.hangs: list[str] = []
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                outer.asked.set()
                if outer.hang_seconds:
                    answered = outer._release.wait(outer.hang_seconds)
                    outer.hangs.append("answered" if answered else "gave up")
                if outer.status != 200:
                    self.send_error(outer.status)
                    return
                headers: dict[str, str] = {}
                if self.path == METADATA_PATH:
                    body: dict[str, Any] = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{outer.url}/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path == "/keys":
                    body = outer.jwks()
                    if outer.max_age is not None:
                        headers["Cache-Control"] = f"public, max-age={outer.max_age}"
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def metadata_url(self) -> str:
        return self.url + METADATA_PATH

    def jwks(self) -> dict[str, Any]:
        public = json.loads(RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "use": "sig", "endorsements": ["msteams"]}]}

    def hang(self, seconds: float) -> None:
        self._release.clear()
        self.hang_seconds = seconds

    def answer(self) -> None:
        """Answer at once again (hung requests get their answer now)."""
        self.hang_seconds = 0.0
        self.status = 200
        self._release.set()

    def key_set_fetches(self) -> int:
        return self.requests.count("/keys")

    def close(self) -> None:
        self._release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def token(key: rsa.RSAPrivateKey, *, app_id: str, service_url: str, kid: str = KID, **claims: Any) -> str:
    """A Bot Framework token as the channel signs it (RS256, with the key id in its header)."""
    now = int(time.time())
    body = {"iss": ISSUER, "aud": app_id, "nbf": now - 10, "exp": now + 3600, "serviceurl": service_url, **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": kid})


def auth_overrides(server: OpenIdServer) -> dict[str, str]:
    """The SDK configuration that points it at `server` (as a sovereign cloud's settings would)."""
    return {
        "TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL": server.metadata_url,
        "TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL": server.metadata_url,
        "TO_BOT_FROM_CHANNEL_TOKEN_ISSUER": ISSUER,
        "TO_CHANNEL_FROM_BOT_LOGIN_URL": "https://login.microsoftonline.com/botframework.com",
        "TO_CHANNEL_FROM_BOT_OAUTH_SCOPE": "https://api.botframework.com",
        "OAUTH_URL": "https://api.botframework.com",
    }
