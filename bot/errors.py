"""Errors the core raises. Adapters catch `IntakeError` and show `str(error)` to the person.

IntakeError                     root: every message is written for the person who caused it
├── NotFound
│   ├── ProjectNotFound
│   └── RequestNotFound
├── PermissionDenied            e.g. a non-PM deciding (the attempt is recorded)
├── IllegalMove                 a lifecycle move the request's state does not allow
│   └── AlreadyDecided          a second decision: says who decided and when
├── InvalidInput                empty text, text over the limit, a bad form field
│   └── ProjectFileError        a project file that does not validate: file, line, field
├── Duplicate                   a platform retry of something already processed: do nothing
├── StorageUnavailable          the database cannot be reached (names DATABASE_URL)
└── DeliveryError               an outbound notice could not be delivered
    ├── TemporaryDeliveryError  retry later (optionally after `retry_after` seconds)
    └── PermanentDeliveryError  give up with a reason
"""

from __future__ import annotations


class IntakeError(Exception):
    """Root of every error the core raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class NotFound(IntakeError):
    pass


class ProjectNotFound(NotFound):
    def __init__(self, slug: str, known: list[str] | None = None) -> None:
        hint = f" Known projects: {', '.join(known)}." if known else " No project is loaded yet."
        super().__init__(f"There is no project called '{slug}'.{hint}")
        self.slug = slug


class RequestNotFound(NotFound):
    def __init__(self, ref: str) -> None:
        super().__init__(f"There is no request {ref}. Refs look like ACME-12; `/requests` lists the open ones.")
        self.ref = ref


class PermissionDenied(IntakeError):
    pass


class IllegalMove(IntakeError):
    pass


class AlreadyDecided(IllegalMove):
    pass


class InvalidInput(IntakeError):
    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


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


class DeliveryError(IntakeError):
    pass


class TemporaryDeliveryError(DeliveryError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    pass
