"""The domain's exceptions: one root, each carrying the data its message needs.

Load-time problems (a bad workflow file) raise `InvalidDefinition`; run-time refusals
(`GuardFailed`, `NotAllowed`, `VersionConflict`, `InvalidData`, `NotFound`) carry a stable
`code` that the CLI and the API print as `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CicieError(Exception):
    """Root of every error the domain raises on purpose."""

    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details if details is not None else []

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


@dataclass(frozen=True)
class DefinitionProblem:
    """One problem in a workflow file, located for the person who wrote it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class InvalidDefinition(CicieError):
    """A workflow file that cannot be used; lists every problem found, not only the first."""

    code = "invalid_definition"

    def __init__(self, problems: list[DefinitionProblem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.path, p.line, p.message))
        text = "\n".join(str(p) for p in self.problems)
        super().__init__(
            f"{len(self.problems)} problem(s) in workflow definition:\n{text}",
            [{"path": p.path, "line": p.line, "message": p.message} for p in self.problems],
        )


class NotFound(CicieError):
    code = "not_found"


class NotAllowed(CicieError):
    """The trigger does not exist in this state, or the actor's role may not fire it."""

    code = "not_allowed"


class GuardFailed(CicieError):
    """One or more brochure rules do not hold; details list each guard and its reason."""

    code = "guard_failed"


class VersionConflict(CicieError):
    """Somebody else changed the request since the caller read it."""

    code = "conflict"


class InvalidData(CicieError):
    """Data that does not fit the workflow's fields; details are field-level messages."""

    code = "invalid_data"
