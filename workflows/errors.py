"""The domain's root error and the load-time errors, below both `workflows/` and `engine/`.

They live here, not in `engine/`, so the loader can raise them without importing the layer that
uses it; `engine.errors` re-exports them (same classes, so `isinstance` and `except` agree).
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
