"""Rendering partner e-mail: templates per event and language, then the MIME bytes to store.

Each event has `templates/<event>/<lang>.subject.txt | .txt | .html`. Text (subjects and
plain bodies) and HTML use separate Jinja2 environments because autoescaping a subject would
print `R&amp;D`; both use `StrictUndefined`, so a missing variable fails at enqueue time
with a `TemplateError` instead of reaching a partner as an empty gap. Dates, times, money and
catalogue labels are formatted by filters in the language the mail is actually written in.

Rendering is done once, when a mail is queued; the outbox stores the bytes `build_message`
returns, with a `Message-ID` derived from the outbox key so a resend is the same message.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from email import encoders
from email.header import Header
from email.headerregistry import Address
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr
from pathlib import Path
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel import Locale
from babel.dates import format_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_currency
from jinja2.exceptions import FilterArgumentError

from config.catalogues import Catalogues, load_catalogues
from engine.errors import CicieError
from notifications.headers import clean_header, parse_address, parse_mailbox
from notifications.recipient import Recipient

TEMPLATE_DIR = Path(__file__).parent / "templates"
SUBJECT_SUFFIX = ".subject.txt"
TEXT_SUFFIX = ".txt"
HTML_SUFFIX = ".html"
RESERVED_KEYS = frozenset({"language"})  # set by the renderer: the language being rendered

_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(?:_[A-Z]{2})?")
_MESSAGE_ID = re.compile(r"<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+>")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_TOKEN = re.compile(r"[A-Za-z0-9!#$&^_.+-]+")
# errors a template can raise while rendering: Jinja's own, and those its filters and
# expressions raise on bad data (a date that is not a date, `1 + "a"`, a missing key)
_RENDER_ERRORS = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError)


class TemplateError(CicieError):
    """A mail that cannot be rendered: unknown template, no usable language, or a template
    problem (syntax, undefined variable, bad value); names the template and where it failed."""

    code = "template_error"

    def __init__(
        self,
        template: str,
        problem: str,
        *,
        language: str | None = None,
        file: str | None = None,
        line: int | None = None,
    ) -> None:
        where = file or (f"{template}/{language}" if language else template)
        at = f" line {line}" if line else ""
        super().__init__(
            f"template {where}{at}: {problem}",
            {
                "template": template,
                "language": language,
                "file": file,
                "line": line,
                "problem": problem,
            },
        )
        self.template = template
        self.language = language
        self.file = file
        self.line = line
        self.problem = problem


@dataclass(frozen=True)
class Rendered:
    """One mail as written for one recipient, in the language actually used."""

    language: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Attachment:
    """A file to attach; `content_type` may carry parameters (`text/calendar; method=…`)."""

    filename: str
    content_type: str
    data: bytes

    @classmethod
    def invitation(cls, data: bytes, filename: str = "invitation.ics") -> Attachment:
        """An iCalendar invitation as calendar clients expect it (see notifications.ics)."""
        return cls(filename, "text/calendar; method=REQUEST; charset=utf-8", data)


# ------------------------------------------------------------------------------ filters
def _locale(ctx: jinja2.runtime.Context) -> str:
    language = ctx.get("language")
    if not isinstance(language, str):
        raise jinja2.TemplateRuntimeError(
            "this filter needs the render language: import macros 'with context'"
        )
    return language


def _as_date(value: Any, zone: ZoneInfo) -> dt.date:
    if isinstance(value, dt.datetime):
        return _as_aware(value).astimezone(zone).date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        if "T" in value or " " in value.strip():
            return _as_aware(dt.datetime.fromisoformat(value)).astimezone(zone).date()
        return dt.date.fromisoformat(value)
    raise FilterArgumentError(f"not a date: {value!r}")


def _as_aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        raise FilterArgumentError(f"not a date and time: {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise FilterArgumentError(f"a naive date and time is ambiguous: {value!r}")
    return value


def _label(value: Any, language: str) -> str:
    """A label in `language`: plain text as is; {es, en, fr} mappings or catalogue Labels
    fall back to English, then Spanish."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        for lang in (language, "en", "es"):
            text = value.get(lang)
            if isinstance(text, str) and text:
                return text
        raise FilterArgumentError(f"no label in {language}, en or es: {value!r}")
    getter = getattr(value, "get", None)
    if callable(getter):
        return str(getter(language))
    raise FilterArgumentError(f"not a label: {value!r}")


class MailRenderer:
    """Renders `templates/<event>/<lang>.*` for a recipient, falling back along the
    recipient's language chain, with Babel formatting in the language chosen."""

    def __init__(
        self,
        template_dir: Path = TEMPLATE_DIR,
        *,
        timezone: str = "America/Mexico_City",
        catalogues: Catalogues | None = None,
    ) -> None:
        self.template_dir = Path(template_dir)
        self.zone = ZoneInfo(timezone)
        self.catalogues = catalogues if catalogues is not None else load_catalogues()
        self.text_env = self._environment(autoescape=False)
        self.html_env = self._environment(autoescape=True)

    # -------------------------------------------------------------- environments
    def _environment(self, *, autoescape: bool) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.template_dir),
            autoescape=autoescape,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            finalize=_refuse_none,
        )
        env.filters.update(self._filters())
        return env

    def _filters(self) -> dict[str, Callable[..., Any]]:
        zone = self.zone
        financing = self.catalogues.financing
        themes = self.catalogues.themes

        @jinja2.pass_context
        def date(ctx: jinja2.runtime.Context, value: Any, format: str = "long") -> str:
            """`2016-06-06` → "6 de junio de 2016" / "June 6, 2016" / "6 juin 2016"."""
            return format_date(_as_date(value, zone), format, locale=_locale(ctx))

        @jinja2.pass_context
        def datetime(ctx: jinja2.runtime.Context, value: Any, format: str = "medium") -> str:
            """An aware instant shown in the business time zone (Mexico City)."""
            return babel_datetime(_as_aware(value), format, tzinfo=zone, locale=_locale(ctx))

        @jinja2.pass_context
        def money(ctx: jinja2.runtime.Context, amount: Any, currency: str) -> str:
            return format_currency(Decimal(str(amount)), currency, locale=_locale(ctx))

        @jinja2.pass_context
        def label(ctx: jinja2.runtime.Context, value: Any) -> str:
            return _label(value, _locale(ctx))

        @jinja2.pass_context
        def theme(ctx: jinja2.runtime.Context, theme_id: str) -> str:
            found = themes.get(theme_id)
            return found.label.get(_locale(ctx)) if found else str(theme_id)

        @jinja2.pass_context
        def payer(ctx: jinja2.runtime.Context, payer_id: str) -> str:
            found = financing.payers.get(payer_id)
            return found.get(_locale(ctx)) if found else str(payer_id)

        @jinja2.pass_context
        def cost_sharing(
            ctx: jinja2.runtime.Context, matrix: Mapping[str, str]
        ) -> list[dict[str, str]]:
            """Who pays what, in the catalogue's order, labelled in the mail's language."""
            language = _locale(ctx)
            rows = []
            for category in financing.categories.values():
                if category.id in matrix:
                    payer_id = matrix[category.id]
                    found = financing.payers.get(payer_id)
                    rows.append(
                        {
                            "category_id": category.id,
                            "category": category.label.get(language),
                            "payer_id": payer_id,
                            "payer": found.get(language) if found else str(payer_id),
                        }
                    )
            return rows

        @jinja2.pass_context
        def country(ctx: jinja2.runtime.Context, code: str) -> str:
            name = Locale.parse(_locale(ctx)).territories.get(str(code).upper())
            return str(name) if name else str(code)

        return {
            "date": date,
            "datetime": datetime,
            "money": money,
            "label": label,
            "theme": theme,
            "payer": payer,
            "cost_sharing": cost_sharing,
            "country": country,
        }

    # -------------------------------------------------------------- discovery
    def templates(self) -> dict[str, frozenset[str]]:
        """Every template (event) with the languages that have all three files."""
        if not self.template_dir.is_dir():
            return {}
        return {
            entry.name: self._languages_in(entry)
            for entry in sorted(self.template_dir.iterdir())
            if entry.is_dir() and _TEMPLATE_NAME.fullmatch(entry.name)
        }

    def languages(self, template: str) -> frozenset[str]:
        """Languages `template` can be rendered in; TemplateError for an unknown template."""
        if not _TEMPLATE_NAME.fullmatch(template or ""):
            raise TemplateError(str(template), "not a template name")
        directory = self.template_dir / template
        if not directory.is_dir():
            raise TemplateError(template, f"unknown template (no folder in {self.template_dir})")
        return self._languages_in(directory)

    @staticmethod
    def _languages_in(directory: Path) -> frozenset[str]:
        names = {p.name for p in directory.iterdir() if p.is_file()}
        candidates = {n.removesuffix(SUBJECT_SUFFIX) for n in names if n.endswith(SUBJECT_SUFFIX)}
        return frozenset(
            lang
            for lang in candidates
            if _LANGUAGE.fullmatch(lang)
            and f"{lang}{TEXT_SUFFIX}" in names
            and f"{lang}{HTML_SUFFIX}" in names
        )

    # -------------------------------------------------------------- rendering
    def render(self, template: str, recipient: Recipient, context: Mapping[str, Any]) -> Rendered:
        """Write `template` for `recipient` in the first language of their chain it has.

        The context gets `language` (reserved) and, unless given, `recipient` as
        {name, role}. Any problem is a `TemplateError` naming the file and line.
        """
        available = self.languages(template)
        chain = recipient.language_chain()
        language = next((lang for lang in chain if lang in available), None)
        if language is None:
            raise TemplateError(
                template,
                f"no language of the chain {list(chain)} is available "
                f"(the template has {sorted(available) or 'none'})",
            )
        reserved = RESERVED_KEYS & set(context)
        if reserved:
            raise TemplateError(
                template, f"context key(s) {sorted(reserved)} are set by the renderer"
            )
        values: dict[str, Any] = {
            "recipient": {"name": recipient.name, "role": recipient.role},
            **context,
            "language": language,
        }
        subject = clean_header(
            self._render(self.text_env, template, language, SUBJECT_SUFFIX, values)
        )
        if not subject:
            raise TemplateError(template, "the subject is empty", language=language)
        text = self._render(self.text_env, template, language, TEXT_SUFFIX, values)
        html = self._render(self.html_env, template, language, HTML_SUFFIX, values)
        return Rendered(language=language, subject=subject, text=text, html=html)

    def _render(
        self,
        env: jinja2.Environment,
        template: str,
        language: str,
        suffix: str,
        values: Mapping[str, Any],
    ) -> str:
        name = f"{template}/{language}{suffix}"
        try:
            return env.get_template(name).render(values)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(
                template,
                exc.message or str(exc),
                language=language,
                file=exc.name or name,
                line=exc.lineno,
            ) from exc
        except _RENDER_ERRORS as exc:
            where, line = self._location(exc.__traceback__)
            problem = str(exc) or type(exc).__name__
            if where is not None and where != name:  # failed in a layout or macro file
                problem = f"{problem} (in {where} line {line})"
                line = None
            raise TemplateError(template, problem, language=language, file=name, line=line) from exc

    def _location(self, tb: TracebackType | None) -> tuple[str | None, int | None]:
        """The innermost template file and line in a traceback (Jinja maps frames to them)."""
        root = os.path.abspath(self.template_dir)
        found: tuple[str | None, int | None] = (None, None)
        while tb is not None:
            filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
            if filename.startswith(root + os.sep):
                found = (Path(os.path.relpath(filename, root)).as_posix(), tb.tb_lineno)
            tb = tb.tb_next
        return found


def _refuse_none(value: Any) -> Any:
    """Printing None is a bug the partner would read as "None": guard it with {% if %}."""
    if value is None:
        raise TypeError("a value printed in the template is None (guard it with {% if %})")
    return value


# ------------------------------------------------------------------------------ messages
def make_message_id(key: str, domain: str) -> str:
    """A stable `<hex@domain>` for an outbox key, so a resend is recognisably the same mail."""
    if not _DOMAIN.fullmatch(domain or ""):
        raise ValueError(f"not a domain name: {domain!r}")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{domain}>"


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    main, _, rest = clean_header(value).partition(";")
    maintype, _, subtype = main.strip().lower().partition("/")
    if not (_TOKEN.fullmatch(maintype) and _TOKEN.fullmatch(subtype)):
        raise ValueError(f"not a content type: {value!r}")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        if not part.strip():
            continue
        key, sep, val = part.partition("=")
        key, val = key.strip().lower(), val.strip().strip('"')
        if not sep or not _TOKEN.fullmatch(key) or not _TOKEN.fullmatch(val):
            raise ValueError(f"not a content-type parameter: {part!r}")
        params[key] = val
    return maintype, subtype, params


def _filename(value: str) -> str:
    name = clean_header(value, 100).replace("/", "_").replace("\\", "_").strip(". ")
    return name or "attachment"


def build_message(
    *,
    rendered: Rendered,
    sender: str,
    recipient: Recipient,
    message_id: str,
    date: dt.datetime,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The message as bytes: one From, one To, a one-line Subject, text + HTML alternatives,
    then attachments. Every header value is cleaned; addresses are single validated ones."""
    if date.tzinfo is None or date.utcoffset() is None:
        raise ValueError("date must be an aware datetime")
    if clean_header(message_id, 250) != message_id or not _MESSAGE_ID.fullmatch(message_id):
        raise ValueError(f"not a Message-ID of the form <id@domain>: {message_id!r}")
    language = clean_header(rendered.language, 35)
    if not _LANGUAGE.fullmatch(language):
        raise ValueError(f"not a language tag: {rendered.language!r}")

    # compat32 MIME classes: ~10× faster than EmailMessage with policy.SMTP, whose header
    # registry re-parses every header (5 ms a message here). Safety does not depend on it:
    # every header value is cleaned by clean_header, and the addresses are single addresses
    # validated by parse_address / parse_mailbox before they are formatted.
    body = MIMEMultipart("alternative")
    body.attach(MIMEText(rendered.text, "plain", "utf-8"))
    body.attach(MIMEText(rendered.html, "html", "utf-8"))
    msg: MIMEMultipart = body
    if attachments:
        msg = MIMEMultipart("mixed")
        msg.attach(body)
        for attachment in attachments:
            maintype, subtype, params = _content_type(attachment.content_type)
            part = MIMEBase(maintype, subtype)
            for key, value in params.items():
                part.set_param(key, value)
            part.set_payload(attachment.data)
            encoders.encode_base64(part)
            part.add_header(
                "Content-Disposition", "attachment", filename=_filename(attachment.filename)
            )
            msg.attach(part)
    msg["From"] = _mailbox(parse_mailbox(sender, field="mail_from"))
    msg["To"] = _mailbox(parse_address(recipient.address, recipient.name, field="recipient"))
    msg["Subject"] = _text_header(clean_header(rendered.subject))  # type: ignore[assignment]
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"  # no out-of-office replies to an automated sender
    msg["Content-Language"] = language.replace("_", "-")
    return msg.as_bytes(policy=_WIRE)


_WIRE = compat32.clone(linesep="\r\n", max_line_length=78)


def _mailbox(address: Address) -> str:
    """`Name <addr>` with a non-ASCII name as an RFC 2047 encoded word."""
    return formataddr((address.display_name, address.addr_spec), charset="utf-8")


def _text_header(value: str) -> str | Header:
    """ASCII as is; anything else as a Header object, which the generator folds correctly."""
    return value if value.isascii() else Header(value, "utf-8", header_name="Subject")
