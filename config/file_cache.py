"""Values read from hand-written files (the closures and planning catalogues), kept between
processes so that a command that only reads parses no YAML (issue 16: `cicie request show`).

A value is kept in `<directory>/<name>-<key>.pickle`, where the key is a SHA-256 over the
contents of the files it is read from and of the code that reads them (the caller names
both), with the Python version and this format's number: editing a file makes another key,
so the value is read again. The directory is the definition cache of the installation
(`$CICIE_HOME/cache`), chosen once per process with `use_dir`; until then (tests, tools) every
value is simply read.

Safe with several processes: each writes its own temporary file and moves it into place with
`os.replace`, so a reader finds the old file, the new one or none, never half of one. A file
that cannot be read back is ignored and written again; a value that fails to build (a broken
file) is never kept, so its error is raised afresh every time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

FORMAT = 1
T = TypeVar("T")

_directory: Path | None = None


def use_dir(directory: Path | None) -> None:
    """Keep values under `directory` from now on in this process (None: never keep them)."""
    global _directory
    _directory = directory


def cache_dir() -> Path | None:
    return _directory


def digest(files: Iterable[Path], *extra: str) -> str:
    """A SHA-256 over the names and contents of `files` (a missing one counts as missing)
    and `extra`."""
    found = hashlib.sha256(f"cicie file cache {FORMAT} {sys.version_info[:2]}\n".encode())
    for path in files:
        found.update(str(path).encode() + b"\0")
        try:
            found.update(path.read_bytes())
        except OSError:
            found.update(b"\1missing")
        found.update(b"\0")
    for text in extra:
        found.update(text.encode() + b"\0")
    return found.hexdigest()


def cached(name: str, files: Iterable[Path], build: Callable[[], T], kind: type) -> T:
    """`build()`, or what it gave for the same `files` (their contents) in an earlier process.
    `kind` is the type the value must have to be believed when read back."""
    directory = _directory
    if directory is None:
        return build()
    key = digest(files)
    path = directory / f"{name}-{key[:32]}.pickle"
    try:
        with path.open("rb") as fh:
            stored = pickle.load(fh)
        if isinstance(stored, dict) and stored.get("key") == key:
            value = stored.get("value")
            if isinstance(value, kind):
                return value  # type: ignore[return-value]
    except Exception:  # missing, unreadable, corrupt, classes since renamed: build again
        pass
    value = build()
    write_atomically(path, pickle.dumps({"key": key, "value": value}, pickle.HIGHEST_PROTOCOL))
    remove_others(directory.glob(f"{name}-*.pickle"), keep=path)
    return value


def remove_others(paths: Iterable[Path], keep: Path) -> None:
    """Delete the files of `paths` but `keep` (older keys of one value), quietly."""
    for stale in paths:
        if stale != keep:
            with contextlib.suppress(OSError):
                stale.unlink()


def write_atomically(path: Path, data: bytes) -> None:
    """`data` into `path` through a temporary file moved into place; a home that cannot be
    written keeps no cache, and that is all."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # only to write (a warm cache is only read)

        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
