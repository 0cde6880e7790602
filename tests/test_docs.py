"""Documentation that cannot silently fall behind: every guard and every setting is documented."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from workflows.guard_api import GUARDS

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_every_guard_is_listed_in_the_authoring_guide() -> None:
    guide = (DOCS / "workflow-authoring.md").read_text(encoding="utf-8")
    missing = [name for name in GUARDS.names() if f"`{name}`" not in guide]
    assert not missing, f"document these guards in docs/workflow-authoring.md: {missing}"


def test_every_setting_is_listed_in_the_operations_guide() -> None:
    guide = (DOCS / "operations.md").read_text(encoding="utf-8")
    missing = [
        f"CICIE_{name.upper()}"
        for name in Settings.model_fields
        if f"CICIE_{name.upper()}" not in guide
    ]
    assert not missing, f"document these settings in docs/operations.md: {missing}"
