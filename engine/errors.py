"""The domain's exceptions: one root, each carrying the data its message needs.

Load-time problems (a bad workflow file) raise `InvalidDefinition`; run-time refusals
(`GuardFailed`, `NotAllowed`, `VersionConflict`, `InvalidData`, `NotFound`) carry a stable
`code` that the CLI and the API print as `{"error": {"code", "message", "details"}}`.

The root and the load-time errors are defined in `workflows.errors` (the loader raises them and
must not import the engine); they are re-exported here, so `engine.errors` stays the one place
the rest of the code imports errors from.
"""

from __future__ import annotations

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
    """One or more brochure rules do not hold; details list each guard and its reason."""

    code = "guard_failed"


class VersionConflict(CicieError):
    """Somebody else changed the request since the caller read it."""

    code = "conflict"


class InvalidData(CicieError):
    """Data that does not fit the workflow's fields; details are field-level messages."""

    code = "invalid_data"
