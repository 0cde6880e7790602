"""The checked definitions of a workflow folder, kept between processes (issue 16).

Loading the five programmes costs most of a command's start: reading and merging the YAML,
checking it, and above all finding which languages each mail template can be written in
(every template's sentences against every catalogue). The result depends only on files, so it
is kept in `CICIE_HOME/cache/definitions-<key>.pickle`, where the key is a SHA-256 over the
contents of everything the loader reads — the programme files and their bases, the mail
templates, the translation catalogues, the data catalogues — and of the loader's own code (the
`workflows` package, `config` and `i18n`), with the Python version and this format's number.
A change to any of them makes another key, so the cache is rebuilt; a stale one is removed.

Safe with several processes: each writes its own temporary file in the cache folder and moves
it into place with `os.replace` (atomic), so a reader finds the old file, the new one or none,
never half of one. A file that cannot be read back (corrupt, truncated, written by another
version, for another key) is ignored and replaced. Only definitions that loaded without a
problem are kept: an invalid file is reported afresh every time.

The cache holds pickled `WorkflowDefinition`s: it is read only from CICIE_HOME, which holds the
database and the site's secret key, so whoever can write it can already change everything.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import pickle
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from config import file_cache
from config.catalogues import Catalogues
from workflows.definition import WorkflowDefinition

FORMAT = 2
PREFIX = "definitions-"
SUFFIX = ".pickle"
_HEADER = f"definitions {FORMAT}"  # in every key: a new format makes new files
ROOT = Path(__file__).resolve().parents[2]  # the source tree: workflows/, config/, i18n/, …
# `workflows.template_index.TEMPLATE_DIR`, named here so a cached load does not import Jinja
TEMPLATE_DIR = ROOT / "notifications" / "templates"
# `workflows.load.extends.BASE_DIR`, named here so a cached load does not import the loader
# (tests/cli/test_lean_show.py holds the two equal)
BASE_DIR = Path(__file__).resolve().parents[1] / "base"


def _code_files() -> list[Path]:
    """The code whose output is cached: the loader and the guards it names, the YAML and
    catalogue readers and labels (`config`), the translations (`i18n`)."""
    files = sorted((ROOT / "workflows").rglob("*.py"))
    files += sorted((ROOT / "config").glob("*.py")) + sorted((ROOT / "i18n").glob("*.py"))
    return files


def _data_files(directory: Path | None) -> list[Path]:
    """Every data file the loader reads for the programmes of `directory` (None: for a stored
    text, which names no programme file)."""
    from i18n import LANGUAGES, catalogue_files

    files: list[Path] = []
    bases = [BASE_DIR]
    if directory is not None:
        files += sorted(p for p in directory.glob("*.yaml") if p.is_file())
        bases.insert(0, directory / "base")
    for base in dict.fromkeys(bases):
        files += sorted(p for p in base.glob("*.yaml") if p.is_file())
    if TEMPLATE_DIR.is_dir():
        files += sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file())
    for language in LANGUAGES:
        files += catalogue_files(language)
    # no check reads them today (see `load_text`), but one that did would not go stale
    files += sorted((ROOT / "config" / "catalogues").glob("*.yaml"))
    return files


def key(directory: Path) -> str:
    """The hash of everything `load_all(directory)` depends on."""
    return file_cache.digest([*_code_files(), *_data_files(directory)], _HEADER)


def _proxy(values: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(values)


def _reduce_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Callable[..., Any], tuple[Any]]:
    return _proxy, (dict(proxy),)


def _dumps(value: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[MappingProxyType] = _reduce_proxy
    pickler.dump(value)
    return buffer.getvalue()


def cached_load(
    directory: Path,
    cache_dir: Path,
    build: Callable[[], dict[str, WorkflowDefinition]],
) -> dict[str, WorkflowDefinition]:
    """`build()`'s answer for `directory`, from the cache when its files have not changed."""
    wanted = key(directory)
    path = cache_dir / f"{PREFIX}{wanted[:32]}{SUFFIX}"
    found = _read(path, wanted)
    if found is not None and all(isinstance(d, WorkflowDefinition) for d in found.values()):
        return found
    definitions = build()  # raises InvalidDefinition: nothing is cached
    _write(path, wanted, definitions)
    file_cache.remove_others(cache_dir.glob(f"{PREFIX}*{SUFFIX}"), keep=path)
    return definitions


def cached_stored(
    cache_dir: Path,
    name: str,
    version: int,
    source: str,
    build: Callable[[], WorkflowDefinition],
) -> WorkflowDefinition:
    """A stored version's definition (`build()` checks its text), kept in
    `stored-<name hash>-<version>.pickle` under a key over its text and everything else the
    loader reads (not the programme files: a stored text stands alone). Requests pinned to an
    older version are then shown without checking its text again in every process."""
    wanted = file_cache.digest(
        [*_code_files(), *_data_files(None)], _HEADER, f"{name}\0{version}\0{source}"
    )
    label = hashlib.sha256(name.encode()).hexdigest()[:16]
    path = cache_dir / f"stored-{label}-{int(version)}{SUFFIX}"
    found = _read(path, wanted)
    if found is not None and isinstance(found.get(name), WorkflowDefinition):
        return found[name]
    definition = build()
    _write(path, wanted, {name: definition})
    return definition


def cached_catalogues(cache_dir: Path, build: Callable[[], Catalogues]) -> Catalogues:
    """The data catalogues (`config.catalogues.load_catalogues`: themes, partners, financing,
    country names from Babel), kept in `catalogues.pickle` under a key over their files, the
    code that reads them and Babel's version."""
    from config.catalogues import CATALOGUE_DIR

    files = [*_code_files(), *sorted(CATALOGUE_DIR.glob("*.yaml"))]
    wanted = file_cache.digest(files, _HEADER, f"babel {_babel_version()}")
    path = cache_dir / f"catalogues{SUFFIX}"
    found = _read(path, wanted)
    if found is not None and isinstance(found.get("catalogues"), Catalogues):
        return found["catalogues"]
    catalogues = build()
    _write(path, wanted, {"catalogues": catalogues})
    return catalogues


def _babel_version() -> str:
    from importlib.metadata import version

    return version("babel")


def _read(path: Path, wanted: str) -> dict[str, Any] | None:
    try:
        with path.open("rb") as fh:
            stored = pickle.load(fh)
    except Exception:  # missing, unreadable, corrupt, classes since renamed: build again
        return None
    if (
        not isinstance(stored, dict)
        or stored.get("format") != FORMAT
        or stored.get("key") != wanted
        or not isinstance(stored.get("values"), dict)
    ):
        return None
    values = dict(stored["values"])
    if not all(isinstance(v, WorkflowDefinition | Catalogues) for v in values.values()):
        return None
    return values


def _write(path: Path, wanted: str, values: Mapping[str, Any]) -> None:
    try:
        data = _dumps({"format": FORMAT, "key": wanted, "values": dict(values)})
    except Exception:  # an object that does not pickle: no cache, no harm
        return
    file_cache.write_atomically(path, data)
