"""The site secret that signs session cookies and report/status links.

There is no constant key anywhere: `CICIE_SECRET_KEY` wins when it is set; otherwise a random
key is made on first start and kept in `$CICIE_HOME/secret_key` (mode 0600), so a fresh
installation is safe without any setting. Several hosts behind one address must share one key:
set `CICIE_SECRET_KEY` on each (docs/operations.md, "Rotate the secret").
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from pydantic import SecretStr

from config.settings import MIN_SECRET_LENGTH, Settings

SECRET_FILE = "secret_key"
log = logging.getLogger(__name__)


class SecretUnavailable(Exception):
    """The secret file cannot be read or made (permissions, a directory in its place…)."""


def secret_path(settings: Settings) -> Path:
    return settings.home / SECRET_FILE


def site_secret(settings: Settings) -> SecretStr:
    """The key in force: the environment's, else the one kept in CICIE_HOME (made once)."""
    if settings.secret_key is not None:
        return settings.secret_key
    path = secret_path(settings)
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    try:
        _write_new(path, exclusive=True)
        log.warning(
            "no CICIE_SECRET_KEY set: generated a new random secret key in %s (mode 0600)", path
        )
    except FileExistsError:  # another process made it first: use theirs
        pass
    return _read(path)


def rotate_secret(settings: Settings) -> Path:
    """Replace the kept key with a new random one (atomically); returns where it is."""
    path = secret_path(settings)
    _write_new(path, exclusive=False)
    return path


def _read(path: Path) -> SecretStr:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretUnavailable(f"cannot read the secret key file {path}: {exc}") from exc
    if len(text) < MIN_SECRET_LENGTH:
        raise SecretUnavailable(
            f"the secret key file {path} holds fewer than {MIN_SECRET_LENGTH} characters; "
            "delete it to have a new one made, or run `cicie secret rotate`"
        )
    return SecretStr(text)


def _write_new(path: Path, *, exclusive: bool) -> None:
    """Write a whole key to a temporary file, then put it in place in one step: readers never
    see a half-written key. `exclusive` fails with FileExistsError when a key is already there
    (two processes starting at once keep the first one's)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            os.link(tmp, path)  # atomic, and refuses to replace
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
