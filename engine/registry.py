"""Which definition version each request runs on, compiled once per process.

At start-up the current files are registered in the database: a file whose text changed becomes
the next version of its workflow; identical text reuses the stored version. A request keeps the
version it was created with; older versions are compiled from their stored text on first use.

Registering first reads which checksums are stored, in one read transaction, and writes only
the versions that are missing (each in its own transaction), so a start with unchanged files
takes no write lock. A read-only command does not register at all (`attach`): it reads the
stored versions, and a file changed since the last writing command is shown as the version it
will become, without storing it. A definition is compiled into its machine when first asked
for, not at start (issue 16: a command that shows one request compiles one programme).

The stored text stands alone: for a file that `extends:` a base it is the merged document
(`definition.source`, see `workflows.load.extends`), and the checksum is taken over it — so a
changed base makes the next version of every programme built on it, and never alters a stored
one. Versions stored before the programmes extended bases keep their full text as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from threading import Lock
from typing import TYPE_CHECKING

from config.catalogues import Catalogues
from engine.compiler import CompiledWorkflow
from engine.errors import NotFound
from storage import reads
from workflows import guards as _builtin_guards  # noqa: F401  (fills the default registry)
from workflows.definition import WorkflowDefinition
from workflows.guard_api import GUARDS, GuardRegistry

if TYPE_CHECKING:  # reading a request imports neither SQLAlchemy nor the loader (issue 16)
    import sqlalchemy as sa

    from engine.clock import Clock
    from storage.db import Database
    from storage.reads import ReadConnection

# `workflows.loader.WORKFLOW_DIR`: the bundled programmes (the loader is imported only when a
# definition is not in the cache)
WORKFLOW_DIR = Path(__file__).parent.parent / "workflows"


class WorkflowRegistry:
    def __init__(
        self,
        catalogues: Catalogues,
        directory: Path | None = None,
        guards: GuardRegistry = GUARDS,
        definitions: dict[str, WorkflowDefinition] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.catalogues = catalogues
        self.guards = guards
        self.cache_dir = cache_dir
        self.definitions = (
            definitions if definitions is not None else _load_all(directory, cache_dir)
        )
        self._current: dict[str, int] = {}
        # the current files by stored version, compiled when first asked for
        self._pending: dict[tuple[str, int], WorkflowDefinition] = {}
        # read-only: current files not stored yet, by the version they will become
        self._provisional: dict[str, CompiledWorkflow | None] = {}
        self._compiled: dict[tuple[str, int], CompiledWorkflow] = {}
        self._lock = Lock()

    def names(self) -> list[str]:
        return sorted(self.definitions)

    def sync(self, db: Database, clock: Clock) -> None:
        """Register the current files as versions (idempotent; safe for concurrent starts).
        Only the files whose text is not stored yet take a write transaction."""
        with db.read() as conn:
            stored = _stored_versions(conn)
        for name, definition in sorted(self.definitions.items()):
            version = stored.get((name, definition.checksum))
            if version is None:
                version = self._register(db, clock, name, definition)
            self._set_current(name, version, definition)

    def attach(self, db: Database) -> None:
        """Know the stored versions of the current files without writing anything (read-only
        commands). A file whose text is not stored yet is given the number it will get when a
        writing command registers it, and is never used for a request pinned to that number."""
        with db.read() as conn:
            stored = _stored_versions(conn)
        self.attach_stored(stored)

    def attach_stored(self, stored: _Stored) -> None:
        """`attach`, given the stored versions (`stored_versions`, read by the caller)."""
        latest: dict[str, int] = {}
        for name, version in stored.values_by_name():
            latest[name] = max(latest.get(name, 0), version)
        for name, definition in sorted(self.definitions.items()):
            found = stored.get((name, definition.checksum))
            if found is None:
                self._current[name] = latest.get(name, 0) + 1
                self._provisional[name] = None
            else:
                self._set_current(name, found, definition)

    def _register(
        self, db: Database, clock: Clock, name: str, definition: WorkflowDefinition
    ) -> int:
        import sqlalchemy as sa

        from storage import workflow_versions

        for _attempt in range(3):
            try:
                with db.transaction() as conn:
                    version = workflow_versions.find_by_checksum(conn, name, definition.checksum)
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
                return version
            except sa.exc.IntegrityError:  # another process registered it first
                continue
        raise RuntimeError(f"could not register workflow {name}")  # pragma: no cover

    def _set_current(self, name: str, version: int, definition: WorkflowDefinition) -> None:
        self._current[name] = version
        self._provisional.pop(name, None)
        if (name, version) not in self._compiled:
            self._pending[(name, version)] = definition

    def _compile_pending(self, key: tuple[str, int]) -> CompiledWorkflow | None:
        found = self._compiled.get(key)
        if found is not None or key not in self._pending:
            return found
        with self._lock:
            found = self._compiled.get(key)
            if found is None:
                definition = self._pending[key]
                found = CompiledWorkflow(definition, key[1], self.catalogues)
                self._compiled[key] = found
                self._pending.pop(key, None)
        return found

    def current(self, name: str) -> CompiledWorkflow:
        version = self._current.get(name)
        if version is None:
            known = ", ".join(self.names())
            raise NotFound(f"no programme '{name}' (known: {known})")
        if name in self._provisional:
            with self._lock:
                found = self._provisional.get(name)
                if found is None:
                    found = CompiledWorkflow(self.definitions[name], version, self.catalogues)
                    self._provisional[name] = found
            return found
        compiled = self._compile_pending((name, version))
        assert compiled is not None
        return compiled

    def get(self, conn: ReadConnection, name: str, version: int) -> CompiledWorkflow:
        found = self._compile_pending((name, version))
        if found is not None:
            return found
        with self._lock:
            found = self._compiled.get((name, version))
            if found is None:
                source = reads.source_of(conn, name, version)
                if source is None:
                    raise NotFound(f"workflow {name} version {version} is not stored")
                definition = self._load_stored(name, version, source)
                found = CompiledWorkflow(definition, version, self.catalogues)
                self._compiled[(name, version)] = found
        return found

    def _load_stored(self, name: str, version: int, source: str) -> WorkflowDefinition:
        def check() -> WorkflowDefinition:
            from workflows.loader import load_text

            return load_text(
                source,
                f"{name}.yaml (stored version {version})",
                expected_name=name,
                catalogues=self.catalogues,
                guards=self.guards,
            )

        if self.cache_dir is None or self.guards is not GUARDS:
            return check()
        from workflows.load.cache import cached_stored

        return cached_stored(self.cache_dir, name, version, source, check)

    def stored(self, conn: sa.Connection, name: str, version: int) -> CompiledWorkflow:
        """A stored version by number; NotFound names the versions there are."""
        from storage import workflow_versions

        known = workflow_versions.versions(conn, name)
        if not known:
            raise NotFound(f"no programme '{name}'")
        if version not in known:
            listed = ", ".join(str(v) for v in known)
            raise NotFound(f"workflow {name} has no version {version} (stored: {listed})")
        return self.get(conn, name, version)

    def cached(self, name: str, version: int) -> CompiledWorkflow | None:
        return self._compile_pending((name, version))


class _Stored(dict[tuple[str, str], int]):
    """(name, checksum) → version of every stored workflow version."""

    def values_by_name(self) -> list[tuple[str, int]]:
        return [(name, version) for (name, _checksum), version in self.items()]


def _stored_versions(conn: sa.Connection) -> _Stored:
    """Every stored (name, checksum) with its version (the lowest, should a text have been
    stored twice), in one query."""
    import sqlalchemy as sa

    from storage import workflow_versions

    table = workflow_versions.W
    rows = conn.execute(
        sa.select(table.c.name, table.c.checksum, table.c.version).order_by(
            table.c.name, table.c.version.desc()
        )
    )
    return stored_versions(
        (str(name), str(checksum), int(version)) for name, checksum, version in rows
    )


def stored_versions(rows: Iterable[tuple[str, str, int]]) -> _Stored:
    """The stored versions from (name, checksum, version) rows ordered by name and version,
    newest first (`storage.sqlite_read.SqliteReader.stored_versions` reads them so)."""
    stored = _Stored()
    for name, checksum, version in rows:
        stored[(name, checksum)] = version
    return stored


def _load_all(directory: Path | None, cache_dir: Path | None) -> dict[str, WorkflowDefinition]:
    """`workflows.loader.load_all`; with `cache_dir`, from the definition cache when the files
    have not changed, without importing the loader."""
    folder = WORKFLOW_DIR if directory is None else directory

    def build() -> dict[str, WorkflowDefinition]:
        from workflows.loader import load_all

        return load_all(folder)

    if cache_dir is None:
        return build()
    from workflows.load.cache import cached_load

    return cached_load(folder, cache_dir, build)
