"""Logging: readable text by default, one JSON object a line with INTAKE_LOG_FORMAT=json.

Every record passes through a redacting filter, so tokens, secrets and passwords in URLs never reach a
log line, whichever library wrote it. A record's `ref` (the request it is about) is kept as a field.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_SECRETS = [
    (re.compile(r"\b(xox[abposr]-|xapp-)[A-Za-z0-9-]+"), r"\1***"),  # Slack tokens
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1***"),  # Authorization headers
    (re.compile(r"(://[^:/@\s]+:)[^@\s]+@"), r"\1***@"),  # passwords in URLs
    (
        re.compile(r"(?i)((?:password|secret|token|signing_secret|app_password)[\"']?\s*[=:]\s*[\"']?)[^\s\"',&]+"),
        r"\1***",
    ),
]
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def redact(text: str) -> str:
    for pattern, repl in _SECRETS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | type(None)) else str(value)
        if record.exc_text:
            out["exception"] = record.exc_text
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ref = getattr(record, "ref", None)
        return f"{line} [{ref}]" if ref and f"[{ref}]" not in line else line


def configure(fmt: str = "text", level: str = "INFO", stream: Any = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # The SDKs log every HTTP call at INFO; keep them to warnings unless asked.
    for noisy in ("slack_bolt", "slack_sdk", "aiohttp.access", "botbuilder", "msrest", "urllib3", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
