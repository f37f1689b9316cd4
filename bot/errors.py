"""Errors the core raises. Adapters catch `IntakeError` and show it to the person, in their language
(`error.say(language)`; `str(error)` is the English text, for logs and the command line).

IntakeError                     root: every message is written for the person who caused it
├── NotFound
│   ├── ProjectNotFound
│   └── RequestNotFound
├── PermissionDenied            e.g. a non-PM deciding (the attempt is recorded)
├── IllegalMove                 a lifecycle move the request's state does not allow
│   └── AlreadyDecided          a second decision: says who decided and when
├── InvalidInput                empty text, text over the limit, a bad form field
│   ├── FormInvalid             a form with errors beside its fields (`errors`: field id → message)
│   └── ProjectFileError        a project file that does not validate: file, line, field
├── Duplicate                   a platform retry of something already processed: do nothing
├── StorageUnavailable          the database cannot be reached (names DATABASE_URL)
├── ModelUnavailable            a language model gave no usable answer (`reason`: timeout, malformed…)
└── DeliveryError               an outbound notice could not be delivered
    ├── TemporaryDeliveryError  retry later (optionally after `retry_after` seconds; `uncertain` when
    │                           the attempt may have reached the platform all the same)
    └── PermanentDeliveryError  give up with a reason
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .text import Phrase

if TYPE_CHECKING:
    from .domain import Language


class IntakeError(Exception):
    """Root of every error the core raises on purpose. The message is a `Phrase` (shown in the reader's
    language) or, for errors only operators read, plain text."""

    def __init__(self, message: str | Phrase) -> None:
        self.phrase = message if isinstance(message, Phrase) else None
        self.message = str(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def say(self, language: Language) -> str:
        return self.phrase.render(language) if self.phrase is not None else self.message


class NotFound(IntakeError):
    pass


class ProjectNotFound(NotFound):
    def __init__(self, slug: str, known: list[str] | None = None) -> None:
        if known:
            super().__init__(Phrase("err.no_project", slug=slug, known=", ".join(known)))
        else:
            super().__init__(Phrase("err.no_project_loaded", slug=slug))
        self.slug = slug


class RequestNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(Phrase("err.no_request", ref=ref))
        self.ref = ref


class PermissionDenied(IntakeError):
    pass


class IllegalMove(IntakeError):
    pass


class AlreadyDecided(IllegalMove):
    pass


class InvalidInput(IntakeError):
    def __init__(self, message: str | Phrase, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class FormInvalid(InvalidInput):
    """A form with problems beside its fields; the message is the first of them."""

    def __init__(self, errors: dict[str, Phrase]) -> None:
        first = next(iter(errors))
        super().__init__(errors[first], field=first)
        self.errors = errors

    def errors_in(self, language: Language) -> dict[str, str]:
        return {k: v.render(language) for k, v in self.errors.items()}


class ProjectFileError(InvalidInput):
    """A project file that does not validate. `problems` holds every problem found, each with its line."""

    def __init__(self, source: str, problems: list[tuple[int | None, str, str]]) -> None:
        # problems: (line, field path, message)
        lines = []
        for line, field, msg in problems:
            where = f"{source}:{line}" if line else source
            lines.append(f"{where}: {field}: {msg}" if field else f"{where}: {msg}")
        super().__init__("\n".join(lines), field=problems[0][1] if problems else None)
        self.source = source
        self.problems = problems


class Duplicate(IntakeError):
    def __init__(self, key: str) -> None:
        super().__init__(f"Already processed ({key}).")
        self.key = key


class StorageUnavailable(IntakeError):
    pass


class ModelUnavailable(IntakeError):
    """A language model gave no usable answer. `reason` is a short code the card and the metrics use
    (timeout, rate_limited, server_error, unreachable, http_error, refused, malformed, unknown_item,
    clause_not_found); the message says more, for the log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"the language model gave no usable answer ({reason}){': ' + detail if detail else ''}")
        self.reason = reason
        self.detail = detail


class DeliveryError(IntakeError):
    pass


class TemporaryDeliveryError(DeliveryError):
    """Worth another try. `uncertain`: the platform may have acted on this attempt all the same (a
    timeout, a connection lost after the request went out, a 5xx), so the next attempt checks first."""

    def __init__(self, message: str, *, retry_after: float | None = None, uncertain: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.uncertain = uncertain


class PermanentDeliveryError(DeliveryError):
    pass
