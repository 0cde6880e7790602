"""Which definition version each request runs on, compiled once per process.

At start-up the current files are registered in the database: a file whose text changed becomes
the next version of its workflow; identical text reuses the stored version. A request keeps the
version it was created with; older versions are compiled from their stored text on first use.

The stored text stands alone: for a file that `extends:` a base it is the merged document
(`definition.source`, see `workflows.load.extends`), and the checksum is taken over it — so a
changed base makes the next version of every programme built on it, and never alters a stored
one. Versions stored before the programmes extended bases keep their full text as it was.
"""

from __future__ import annotations

from pathlib import Path
from threading import Lock

import sqlalchemy as sa

from config.catalogues import Catalogues
from engine.clock import Clock
from engine.compiler import CompiledWorkflow
from engine.errors import NotFound
from storage import workflow_versions
from storage.db import Database
from workflows.definition import WorkflowDefinition
from workflows.guard_api import GUARDS, GuardRegistry
from workflows.loader import WORKFLOW_DIR, load_all, load_text


class WorkflowRegistry:
    def __init__(
        self,
        catalogues: Catalogues,
        directory: Path = WORKFLOW_DIR,
        guards: GuardRegistry = GUARDS,
        definitions: dict[str, WorkflowDefinition] | None = None,
    ) -> None:
        self.catalogues = catalogues
        self.guards = guards
        self.definitions = definitions if definitions is not None else load_all(directory)
        self._current: dict[str, int] = {}
        self._compiled: dict[tuple[str, int], CompiledWorkflow] = {}
        self._lock = Lock()

    def names(self) -> list[str]:
        return sorted(self.definitions)

    def sync(self, db: Database, clock: Clock) -> None:
        """Register the current files as versions (idempotent; safe for concurrent starts)."""
        for name, definition in sorted(self.definitions.items()):
            for _attempt in range(3):
                try:
                    with db.transaction() as conn:
                        version = workflow_versions.find_by_checksum(
                            conn, name, definition.checksum
                        )
                        if version is None:
                            version = workflow_versions.latest_version(conn, name) + 1
                            workflow_versions.insert(
                                conn,
                                name=name,
                                version=version,
                                checksum=definition.checksum,
                                source=definition.source,
                                now=clock(),
                            )
                    break
                except sa.exc.IntegrityError:  # another process registered it first
                    continue
            else:  # pragma: no cover - three lost races in a row
                raise RuntimeError(f"could not register workflow {name}")
            self._current[name] = version
            self._compiled[(name, version)] = CompiledWorkflow(definition, version, self.catalogues)

    def current(self, name: str) -> CompiledWorkflow:
        version = self._current.get(name)
        if version is None:
            known = ", ".join(self.names())
            raise NotFound(f"no programme '{name}' (known: {known})")
        return self._compiled[(name, version)]

    def get(self, conn: sa.Connection, name: str, version: int) -> CompiledWorkflow:
        found = self._compiled.get((name, version))
        if found is not None:
            return found
        with self._lock:
            found = self._compiled.get((name, version))
            if found is None:
                source = workflow_versions.source_of(conn, name, version)
                if source is None:
                    raise NotFound(f"workflow {name} version {version} is not stored")
                definition = load_text(
                    source,
                    f"{name}.yaml (stored version {version})",
                    expected_name=name,
                    catalogues=self.catalogues,
                    guards=self.guards,
                )
                found = CompiledWorkflow(definition, version, self.catalogues)
                self._compiled[(name, version)] = found
        return found

    def stored(self, conn: sa.Connection, name: str, version: int) -> CompiledWorkflow:
        """A stored version by number; NotFound names the versions there are."""
        known = workflow_versions.versions(conn, name)
        if not known:
            raise NotFound(f"no programme '{name}'")
        if version not in known:
            listed = ", ".join(str(v) for v in known)
            raise NotFound(f"workflow {name} has no version {version} (stored: {listed})")
        return self.get(conn, name, version)

    def cached(self, name: str, version: int) -> CompiledWorkflow | None:
        return self._compiled.get((name, version))
