"""The domain's exceptions: one root, each carrying the data its message needs.

Load-time problems (a bad workflow file) raise `InvalidDefinition`; run-time refusals
(`GuardFailed`, `NotAllowed`, `VersionConflict`, `InvalidData`, `NotFound`) carry a stable
`code` that the CLI and the API print as `{"error": {"code", "message", "details"}}`.

The root and the load-time errors are defined in `workflows.errors` (the loader raises them and
must not import the engine); they are re-exported here, so `engine.errors` stays the one place
the rest of the code imports errors from.
"""

from __future__ import annotations

from typing import Any

from i18n import SOURCE_LANGUAGE, say
from workflows.errors import CicieError, DefinitionProblem, InvalidDefinition

__all__ = [
    "CicieError",
    "DefinitionProblem",
    "GuardFailed",
    "InvalidData",
    "InvalidDefinition",
    "NotAllowed",
    "NotFound",
    "VersionConflict",
]


class NotFound(CicieError):
    code = "not_found"


class NotAllowed(CicieError):
    """The trigger does not exist in this state, or the actor's role may not fire it."""

    code = "not_allowed"


class GuardFailed(CicieError):
    """One or more brochure rules do not hold. `failures` are the refusals as data ({"code":
    the guard's name or "required_fields", "message": an `i18n.Text`, "field" for a required
    field}); in the JSON form, `details` lists them with each message said in the reader's
    language."""

    code = "guard_failed"

    @property
    def failures(self) -> list[dict[str, Any]]:
        return [d for d in self.details if isinstance(d, dict)]

    def to_dict(self, language: str = SOURCE_LANGUAGE) -> dict[str, Any]:
        details = []
        for f in self.failures:
            detail = {
                "code": f.get("code") or f.get("guard"),
                "message": say(f.get("message", f.get("reason", "")), language),
            }
            if f.get("field"):
                detail["field"] = f["field"]
            details.append(detail)
        return {"code": self.code, "message": self.say(language), "details": details}


class VersionConflict(CicieError):
    """Somebody else changed the request since the caller read it."""

    code = "conflict"


class InvalidData(CicieError):
    """Data that does not fit the workflow's fields; details are field-level messages."""

    code = "invalid_data"
