"""Build the Teams app package: manifest.json (with this bot's id and host) and the two icons, zipped."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

MANIFEST_DIR = Path(__file__).resolve().parent / "manifest"
GUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class PackageError(ValueError):
    """A bad --app-id or --url; the message says what is wrong."""


def template() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8"))
    return data


def build_manifest(app_id: str, url: str) -> dict[str, Any]:
    """The manifest for a bot registered as `app_id`, served at `url` (https://host[/path])."""
    if not GUID_RE.match(app_id):
        raise PackageError(f"'{app_id}' is not a Microsoft App ID (a GUID like 1b2c3d4e-…).")
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise PackageError(f"'{url}' is not an https URL; Teams talks to bots only over https.")
    base = url.rstrip("/")
    manifest = template()
    manifest["id"] = app_id
    manifest["bots"][0]["botId"] = app_id
    manifest["developer"].update(
        {"websiteUrl": base, "privacyUrl": f"{base}/privacy", "termsOfUseUrl": f"{base}/terms"}
    )
    manifest["validDomains"] = [parsed.hostname]
    return manifest


def write_package(app_id: str, url: str, out: Path) -> Path:
    manifest = build_manifest(app_id, url)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        for icon in ("color.png", "outline.png"):
            zf.write(MANIFEST_DIR / icon, icon)
    return out
