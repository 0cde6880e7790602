"""Typed settings from the environment (prefix `CICIE_`, `.env` supported).

Everything has an embedded default so `make run` works on a fresh machine: data under
`./var`, SQLite, a local mail catcher. There is no default secret: `CICIE_SECRET_KEY` when
set, else a random key kept in CICIE_HOME (config/secret.py). Secrets are `SecretStr`, so they
never show in a `repr` or a log line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config import env

MIN_SECRET_LENGTH = env.MIN_SECRET_LENGTH


class Settings(BaseSettings):
    # `config.env` reads the few settings `cicie request show` needs without this class, and
    # lists these fields (`env.FIELDS`): a new field is added there too (a test checks it)
    model_config = SettingsConfigDict(
        env_prefix=env.PREFIX.upper(), env_file=env.ENV_FILE, extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    home: Path = Path(env.DEFAULT_HOME)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None
    timezone: str = env.DEFAULT_TIMEZONE
    reminder_hour: int = Field(default=env.DEFAULT_REMINDER_HOUR, ge=0, le=23)
    language: str = env.DEFAULT_LANGUAGE  # the site's language, before a person's choice
    # the language of the `cicie` command's labels and messages (`--lang` overrides it);
    # unset: `language`
    lang: Literal["es", "en", "fr"] | None = None
    secret_key: SecretStr | None = None
    # addresses (or networks) of reverse proxies whose X-Forwarded-For is believed; none by
    # default, so a client cannot choose the address the sign-in throttle counts
    trusted_proxies: str = ""
    sqlite_synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # mail: with no CICIE_SMTP_HOST, `serve` starts a local catcher on catcher_port and the
    # real delivery path sends to it (messages stored under $CICIE_HOME/mail)
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["none", "starttls", "tls"] = "none"
    smtp_timeout: float = 30.0
    smtp_connections: int = 4
    mail_from: str = "CICIE <cicie@localhost>"
    catcher_port: int = 8025
    coordinator_email: str = "cicie-coordination@localhost"
    programme_lead_email: str = "cicie-programme-lead@localhost"
    mail_max_attempts: int = 8
    outbox_lease_seconds: int = 120
    workflow_dir: Path | None = Field(default=None)
    # final-report attachments sent through a report link (PDF only)
    upload_max_bytes: int = 10 * 1024 * 1024
    upload_max_files: int = 5
    # operations: logs, worker pace, leases, shutdown (docs/operations.md)
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    dispatch_interval: float = Field(default=10.0, gt=0)
    sweep_interval: float = Field(default=30.0, gt=0)
    timer_lease_seconds: int = Field(default=120, gt=0)
    shutdown_grace: float = Field(default=10.0, ge=0)

    @model_validator(mode="after")
    def _refuse_weak_secret(self) -> Settings:
        if self.secret_key is not None and len(self.secret_key.get_secret_value()) < (
            MIN_SECRET_LENGTH
        ):
            raise ValueError(
                f"CICIE_SECRET_KEY must be at least {MIN_SECRET_LENGTH} random characters "
                "(for example the output of: python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'), or unset to have one made in CICIE_HOME"
            )
        return self

    @property
    def trusted_proxy_list(self) -> list[str]:
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]

    @property
    def resolved_database_url(self) -> str:
        return env.database_url(self.database_url, self.home)

    @property
    def mail_dir(self) -> Path:
        return self.home / "mail"

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"
