"""The settings a command that only reads needs, from the environment, without
pydantic-settings (issue 16: it costs a command ~70 ms; `cicie request show` on SQLite reads
its settings here, `cli.lean_show`).

`config.settings.Settings` stays the one definition of the settings: its defaults and its
database URL come from here (`DEFAULTS`, `database_url`), and `FIELDS` lists its fields with
what each accepts. `read_settings()` answers only when it is sure to answer as `Settings()`
would: every `CICIE_*` variable naming a setting holds a value `Settings` accepts and reads
the same way (a plain number, one of the choices, a long enough secret…), no two variables
differ only by case, and there is no `.env` file (`Settings` reads one; this does not). Else
it answers None, and the caller builds `Settings()` — which reads or refuses as it always
has. tests/cli/test_lean_show.py compares both for several environments, and `FIELDS` with
`Settings.model_fields`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PREFIX = "cicie_"  # Settings' env_prefix, compared without case as pydantic-settings does
ENV_FILE = ".env"  # Settings' env_file, in the working directory

# Settings' defaults that the read path uses (config/settings.py takes them from here)
DEFAULT_HOME = "var"
DEFAULT_TIMEZONE = "America/Mexico_City"
DEFAULT_REMINDER_HOUR = 9
DEFAULT_LANGUAGE = "es"  # the site's language, before a person's own choice is known

_INT = re.compile(r"0|[1-9][0-9]*")
_FLOAT = re.compile(r"(0|[1-9][0-9]*)(\.[0-9]+)?")

# Every field of Settings: what a value from the environment must be for `read_settings` to
# vouch that Settings accepts it as it is: "text" (any string), "path", "secret" (a string of
# at least MIN_SECRET_LENGTH characters), ("int", low, high), ("float", low, high,
# low_included), ("choice", values). Anything else: not sure, so Settings decides.
MIN_SECRET_LENGTH = 32
FIELDS: dict[str, object] = {
    "environment": ("choice", ("development", "production", "test")),
    "home": "path",
    "database_url": "text",
    "host": "text",
    "port": ("int", None, None),
    "base_url": "text",
    "timezone": "text",
    "reminder_hour": ("int", 0, 23),
    "language": "text",
    "lang": ("choice", ("es", "en", "fr")),
    "secret_key": "secret",
    "trusted_proxies": "text",
    "sqlite_synchronous": ("choice", ("NORMAL", "FULL")),
    "db_pool_size": ("int", 1, 200),
    "smtp_host": "text",
    "smtp_port": ("int", None, None),
    "smtp_username": "text",
    "smtp_password": "text",
    "smtp_security": ("choice", ("none", "starttls", "tls")),
    "smtp_timeout": ("float", None, None, True),
    "smtp_connections": ("int", None, None),
    "mail_from": "text",
    "catcher_port": ("int", None, None),
    "coordinator_email": "text",
    "programme_lead_email": "text",
    "mail_max_attempts": ("int", None, None),
    "outbox_lease_seconds": ("int", None, None),
    "workflow_dir": "path",
    "upload_max_bytes": ("int", None, None),
    "upload_max_files": ("int", None, None),
    "log_format": ("choice", ("text", "json")),
    "log_level": ("choice", ("DEBUG", "INFO", "WARNING", "ERROR")),
    "dispatch_interval": ("float", 0, None, False),
    "sweep_interval": ("float", 0, None, False),
    "timer_lease_seconds": ("int", 1, None),
    "shutdown_grace": ("float", 0, None, True),
}


def database_url(configured: str | None, home: Path) -> str:
    """The database a command opens: CICIE_DATABASE_URL, else SQLite in CICIE_HOME."""
    if configured:
        return configured
    return f"sqlite:///{(home / 'cicie.db').resolve()}"


@dataclass(frozen=True)
class ReadSettings:
    """The settings `cicie request show` reads, as `Settings()` gives them."""

    home: Path
    database_url: str | None
    timezone: str
    reminder_hour: int
    language: str
    lang: str | None
    workflow_dir: Path | None

    @property
    def resolved_database_url(self) -> str:
        return database_url(self.database_url, self.home)


def _accepted(kind: object, value: str) -> bool:
    """Whether Settings surely accepts `value` for a field of `kind` and reads it as here."""
    if kind in ("text", "path"):
        return True
    if kind == "secret":
        return len(value) >= MIN_SECRET_LENGTH
    assert isinstance(kind, tuple)
    if kind[0] == "choice":
        return value in kind[1]
    if kind[0] == "int":
        if not _INT.fullmatch(value):
            return False
        number = int(value)
        low, high = kind[1], kind[2]
        return (low is None or number >= low) and (high is None or number <= high)
    if kind[0] == "float":
        if not _FLOAT.fullmatch(value):
            return False
        real = float(value)
        low, high, low_included = kind[1], kind[2], kind[3]
        above = low is None or (real >= low if low_included else real > low)
        return above and (high is None or real <= high)
    return False


def read_settings(
    environ: Mapping[str, str] | None = None, cwd: Path | None = None
) -> ReadSettings | None:
    """The read path's settings from `environ` (default: the process's), or None when only
    `Settings()` can tell (see the module's docstring)."""
    environ = os.environ if environ is None else environ
    if (cwd or Path.cwd()).joinpath(ENV_FILE).exists():
        return None
    values: dict[str, str] = {}
    for key, value in environ.items():
        lowered = key.lower()
        if not lowered.startswith(PREFIX):
            continue
        name = lowered[len(PREFIX) :]
        kind = FIELDS.get(name)
        if kind is None:
            continue  # not a setting: Settings ignores it too
        if name in values or not _accepted(kind, value):
            return None
        values[name] = value
    workflow_dir = values.get("workflow_dir")
    return ReadSettings(
        home=Path(values.get("home", DEFAULT_HOME)),
        database_url=values.get("database_url"),
        timezone=values.get("timezone", DEFAULT_TIMEZONE),
        reminder_hour=int(values.get("reminder_hour", DEFAULT_REMINDER_HOUR)),
        language=values.get("language", DEFAULT_LANGUAGE),
        lang=values.get("lang"),
        workflow_dir=Path(workflow_dir) if workflow_dir is not None else None,
    )
