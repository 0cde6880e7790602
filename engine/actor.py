"""Who acts: a role (which decides what is allowed) and a name (recorded in history)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.errors import InvalidData
from workflows.definition import ROLES

_NAME = re.compile(r"^[\w .@'-]{1,120}\Z", re.UNICODE)


@dataclass(frozen=True)
class Actor:
    role: str
    name: str

    @classmethod
    def parse(cls, text: str) -> Actor:
        """`ROLE[:NAME]`, e.g. `coordinator:ana`; the name defaults to the role."""
        role, _, name = text.partition(":")
        role, name = role.strip(), (name.strip() or role.strip())
        if role not in ROLES:
            raise InvalidData(
                f"unknown role '{role}' (known: {', '.join(ROLES)})",
                [{"field": "as", "message": f"unknown role '{role}'"}],
            )
        if not _NAME.match(name):
            raise InvalidData(
                "an actor name is 1–120 letters, digits, spaces or . @ ' -",
                [{"field": "as", "message": "invalid actor name"}],
            )
        return cls(role, name)

    def __str__(self) -> str:
        return f"{self.role}:{self.name}"
