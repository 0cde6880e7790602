"""The domain's root error and the load-time errors, below both `workflows/` and `engine/`.

They live here, not in `engine/`, so the loader can raise them without importing the layer that
uses it; `engine.errors` re-exports them (same classes, so `isinstance` and `except` agree).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from i18n import SOURCE_LANGUAGE, Text, say


class CicieError(Exception):
    """Root of every error the domain raises on purpose.

    The message may be an `i18n.Text` (said in its reader's language by `say`/`to_dict`), and so
    may any value in `details`; `message` and `str()` are English, for logs."""

    code = "error"

    def __init__(self, message: str | Text, details: Any = None) -> None:
        super().__init__(str(message))
        self.text = message
        self.message = str(message)
        self.details = details if details is not None else []

    def say(self, language: str = SOURCE_LANGUAGE) -> str:
        """The message in `language`."""
        return say(self.text, language)

    def to_dict(self, language: str = SOURCE_LANGUAGE) -> dict[str, Any]:
        """The JSON form, every sentence in `language`."""
        return {
            "code": self.code,
            "message": self.say(language),
            "details": said(self.details, language),
        }


def said(value: Any, language: str) -> Any:
    """`value` with every `Text` in it said in `language` (dicts and lists walked)."""
    if isinstance(value, Text):
        return value.say(language)
    if isinstance(value, Mapping):
        return {k: said(v, language) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [said(v, language) for v in value]
    return value


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
