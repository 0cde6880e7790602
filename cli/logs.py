"""Logging for the long-running commands (`cicie serve`, `cicie worker`).

`CICIE_LOG_FORMAT=text` (default) writes readable lines; `json` writes one JSON object per
line to stderr, for a log shipper: `ts` (UTC, ISO 8601), `level`, `logger`, `message`, `pid`,
`request_id` when the line was written while an HTTP request was handled (see
`web.observability`), `http` for the access line of each request, and `exc` with the
traceback when there is one. uvicorn's own loggers go through the same handler.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from config.settings import Settings
from web.observability import RequestIdFilter

_TEXT = "%(asctime)s %(levelname)-7s %(name)s%(rid)s: %(message)s"
# attributes every LogRecord has; anything else on a record came from `extra=`
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "request_id",
    "rid",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        rid = getattr(record, "request_id", None)
        if rid is not None:
            entry["request_id"] = rid
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(_TEXT)

    def format(self, record: logging.LogRecord) -> str:
        rid = getattr(record, "request_id", None)
        record.rid = f" [{rid}]" if rid else ""
        return super().format(record)


def configure_logging(settings: Settings, stream: TextIO | None = None) -> logging.Handler:
    """One handler on the root logger (replacing any earlier one of ours); returns it."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.set_name("cicie")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "cicie"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # `transitions` logs every state change at INFO: our history rows already say it
    logging.getLogger("transitions").setLevel(logging.WARNING)
    # APScheduler logs every run of the sweep and the dispatch (every few seconds) at INFO;
    # what they did is logged by our own jobs, and its warnings (missed runs) still show
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # the local mail catcher (aiosmtpd) logs every SMTP command: to a file in CICIE_HOME, so
    # the console keeps what a person needs (docs/operations.md, "Logs")
    catcher_log = logging.getLogger("mail.log")
    for old in [h for h in catcher_log.handlers if h.get_name() == "cicie-catcher"]:
        catcher_log.removeHandler(old)
        old.close()
    settings.home.mkdir(parents=True, exist_ok=True)
    catcher_handler = logging.FileHandler(settings.home / "mail-catcher.log", encoding="utf-8")
    catcher_handler.setFormatter(TextFormatter())
    catcher_handler.set_name("cicie-catcher")
    catcher_log.addHandler(catcher_handler)
    catcher_log.propagate = False
    return handler
