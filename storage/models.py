"""The tables. SQLModel classes define them (and Alembic's migrations mirror them); the engine's
hot path uses their `__table__` with SQLAlchemy Core, which is 4× cheaper than the ORM per
transition (LIBRARY-NOTES)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite and PostgreSQL alike."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONData = sa.JSON().with_variant(JSONB(), "postgresql")


def _now() -> datetime:
    return datetime.now(UTC)


class Emb(SQLModel, table=True):
    """An electoral management body (or civil-society organisation) that requests programmes."""

    __tablename__ = "emb"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=300)
    country: str = Field(max_length=2)
    language: str = Field(max_length=5)
    email: str | None = Field(default=None, max_length=254)
    # emb | civil_society | political_party | academic | other (workflows.definition)
    kind: str = Field(default="emb", max_length=20, sa_column_kwargs={"server_default": "emb"})
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    # a deactivated organisation keeps its requests and history but is not offered for new
    # requests (migration 0013; /organisations reactivates it)
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class Partner(SQLModel, table=True):
    """A founder, associate or national partner; seeded from config/catalogues/partners.yaml."""

    __tablename__ = "partner"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=20)
    country: str | None = Field(default=None, max_length=2)
    language: str = Field(max_length=5)
    email: str | None = Field(default=None, max_length=254)


class Contact(SQLModel, table=True):
    """A person at an EMB or partner who receives mail about requests."""

    __tablename__ = "contact"
    id: int | None = Field(default=None, primary_key=True)
    emb_id: int | None = Field(default=None, foreign_key="emb.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id", index=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254)
    language: str = Field(max_length=5)
    role: str = Field(max_length=40, default="contact")


class WorkflowVersion(SQLModel, table=True):
    """Every definition text a request was ever pinned to, so old requests keep their rules."""

    __tablename__ = "workflow_version"
    __table_args__ = (
        sa.UniqueConstraint("name", "version"),
        sa.UniqueConstraint("name", "checksum"),
    )
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    version: int
    checksum: str = Field(max_length=64)
    source: str = Field(sa_type=sa.Text)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class Request(SQLModel, table=True):
    """One CICIE request; `version` increases with every change (optimistic concurrency)."""

    __tablename__ = "request"
    # the dashboard counts by (programme, state) and looks for stale requests by state and
    # last change: both answered from an index, without reading each request's data
    __table_args__ = (
        sa.Index("ix_request_programme_state", "programme", "state"),
        sa.Index("ix_request_state_updated", "state", "updated_at"),
        # dashboard counts narrowed to organisations (EMB, region, kind) from the index alone
        sa.Index("ix_request_emb_programme_state", "emb_id", "programme", "state"),
        # … and to a state (ix_request_state_updated reads each row for its programme)
        sa.Index("ix_request_state_programme", "state", "programme"),
    )
    id: int | None = Field(default=None, primary_key=True)
    programme: str = Field(max_length=80, index=True)
    workflow_version: int
    emb_id: int | None = Field(default=None, foreign_key="emb.id", index=True)
    title: str = Field(max_length=300)
    state: str = Field(max_length=80, index=True)
    held_from: str | None = Field(default=None, max_length=80)
    # report and status links carry this number; "revoke all links" increases it
    links_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSONData)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)


class History(SQLModel, table=True):
    """Append-only: one row per change of a request (who, when, from, to, what changed)."""

    __tablename__ = "history"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    version: int  # the request version this change produced
    at: datetime = Field(sa_type=UTCDateTime)
    actor_role: str = Field(max_length=20)
    actor_name: str = Field(max_length=120)
    trigger: str = Field(max_length=80)
    from_state: str | None = Field(default=None, max_length=80)
    to_state: str = Field(max_length=80)
    comment: str | None = Field(default=None, sa_type=sa.Text)
    data_diff: dict[str, Any] | None = Field(default=None, sa_type=JSONData)


class User(SQLModel, table=True):
    """Someone who signs in: admin, coordinator or viewer."""

    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True, index=True)
    role: str = Field(max_length=20)
    password_hash: str = Field(max_length=255)
    # the interface language the user chose (/account or the header picker); "" until they
    # choose: the pages follow the browser meanwhile (see migration 0008)
    language: str = Field(default="", max_length=5)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    # a disabled user cannot sign in, and their sessions and tokens are refused at once
    active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    last_login: datetime | None = Field(default=None, sa_type=UTCDateTime)


class UserSession(SQLModel, table=True):
    """A signed-in browser session, kept on the server so that logging out, a new password,
    disabling the user or "sign out everywhere" ends it (a copied cookie stops working). The
    cookie carries a random id; only its SHA-256 is stored."""

    __tablename__ = "user_session"
    id: str = Field(primary_key=True, max_length=64)  # sha256 hex of the cookie's session id
    user_id: int = Field(foreign_key="user_account.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class SignInAttempt(SQLModel, table=True):
    """A failed (or in-progress) sign-in, counted per username and per client address in the
    database, so every instance shares one throttle; old rows are purged."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (sa.Index("ix_sign_in_attempt_key_at", "key", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # "user:<lowercased name>" or "addr:<client address>"
    at: datetime = Field(sa_type=UTCDateTime, index=True)


class ApiToken(SQLModel, table=True):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    label: str = Field(default="", max_length=120)
    created_at: datetime = Field(default_factory=_now, sa_type=UTCDateTime)
    revoked: bool = Field(default=False)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_used: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxContent(SQLModel, table=True):
    """The rendered text and HTML of a message, shared by the recipients of one notification
    who read the same words (same language, role and kind of link; migration 0015): each
    recipient's name and link stand in it as the marks `name_mark` / `link_mark`, put in when
    the message is sent. Written in the transaction that caused it, with its outbox rows; the
    MIME is assembled from it at dispatch (notifications/stored.py)."""

    __tablename__ = "outbox_content"
    id: int | None = Field(default=None, primary_key=True)
    sender: str = Field(max_length=400)  # the From as configured when the mail was decided
    text: str = Field(sa_type=sa.Text)
    html: str = Field(sa_type=sa.Text)
    name_mark: str | None = Field(default=None, max_length=60)  # None: nothing to put in
    link_mark: str | None = Field(default=None, max_length=60)
    # the .ics invitation's fields but the attendee, its link and DTSTAMP (the message's
    # own), as JSON text; None: no invitation
    invitation: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Outbox(SQLModel, table=True):
    """A rendered message waiting to be delivered, written in the transaction that caused it.

    `key` makes enqueueing idempotent; `message_id` is fixed at render time so a resend after
    an ambiguous failure carries the same Message-ID; `lease_until` lets another dispatcher
    reclaim a message whose dispatcher died after claiming it."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    request_id: int | None = Field(default=None, foreign_key="request.id", index=True)
    history_id: int | None = Field(default=None, foreign_key="history.id", index=True)
    template: str = Field(max_length=80)
    language: str = Field(max_length=5)  # the language the message is written in
    # the recipient's own language when the mail was queued; differs from `language` when
    # the catalogue lacked the event's sentences in it and the mail fell back (None: before 0009)
    wanted_language: str | None = Field(default=None, max_length=35)
    to_addr: str = Field(max_length=254)
    to_name: str = Field(default="", max_length=200)
    subject: str = Field(max_length=300)
    message_id: str = Field(max_length=300, unique=True)
    # the message's MIME bytes as stored before migration 0015; None for a message assembled
    # at dispatch from its content (`content_id`), subject, name and link
    body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    content_id: int | None = Field(default=None, foreign_key="outbox_content.id")
    link: str | None = Field(default=None, sa_type=sa.Text)  # the recipient's own link
    # documents the dispatcher makes and attaches when it sends (issue 15, migration 0014):
    # [{"kind": "invitation_letter" | "agenda_pack", "delegate": n}], None for none
    attachments: list[dict[str, Any]] | None = Field(default=None, sa_type=JSONData)
    status: str = Field(default="pending", max_length=20)  # pending|sending|sent|dead
    attempts: int = Field(default=0)
    ambiguous: int = Field(default=0)  # failures after DATA whose outcome is unknown
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = Field(default=None, max_length=80)
    last_reply: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Timer(SQLModel, table=True):
    """A reminder, escalation or automatic transition due at a moment, as a row (never a
    pickled job): armed and cancelled in the transaction of the transition that causes it,
    claimed atomically by a sweep, and fired once."""

    __tablename__ = "timer"
    __table_args__ = (
        sa.Index("ix_timer_due", "status", "due_at"),
        # a request's timers by status, in due order: every transition and request page asks
        # this; without it the planner takes ix_timer_due and reads every pending timer
        sa.Index("ix_timer_request_status_due", "request_id", "status", "due_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # request:timer:arming history id:occurrence
    request_id: int = Field(foreign_key="request.id", index=True)
    name: str = Field(max_length=80)  # the timer's id in the workflow
    kind: str = Field(max_length=20)  # reminder | escalation | transition
    occurrence: int = Field(default=0)  # repeat number / escalation level
    armed_in: str = Field(max_length=80)  # the state the request was in when it was armed
    due_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(default="pending", max_length=20)  # pending|claimed|fired|skipped|cancelled
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    leased_by: str | None = Field(default=None, max_length=80)
    fired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    outcome: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ReportDraft(SQLModel, table=True):
    """The final report an intern or delegate is writing through a report link, saved as a
    draft (one per request; cleared in the transaction that submits the report)."""

    __tablename__ = "report_draft"
    request_id: int = Field(
        primary_key=True, foreign_key="request.id", sa_column_kwargs={"autoincrement": False}
    )
    data: str = Field(sa_type=sa.Text)  # JSON text: {field: text}
    saved_by: str = Field(max_length=254)  # the address the link was issued to
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ReportAttachment(SQLModel, table=True):
    """A PDF sent with a final report, kept in the database (checked: size, name, `%PDF-`).
    `submitted` turns true in the transaction that submits the report."""

    __tablename__ = "report_attachment"
    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="request.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_type=sa.LargeBinary)
    uploaded_by: str = Field(max_length=254)
    submitted: bool = Field(default=False)
    created_at: datetime = Field(sa_type=UTCDateTime)


# ---- derived from requests and organisations (storage/derived.py, migration 0012): written in
# the transaction that writes what they derive from, so filters and search read indexes only
# tokens compare byte by byte on both databases ("C" collation), so a prefix is a range
Token = sa.String(80).with_variant(sa.String(80, collation="C"), "postgresql")


class RequestFacet(SQLModel, table=True):
    """A value a dashboard filter selects on (facet "theme": a theme id; "year": the event's
    start year and the creation year), with the request's programme, state and organisation
    copied so that counts come from this index alone."""

    __tablename__ = "request_facet"
    __table_args__ = (
        sa.Index(
            "ix_request_facet_count", "facet", "value", "programme", "state", "emb_id", "request_id"
        ),
    )
    request_id: int = Field(
        primary_key=True, foreign_key="request.id", sa_column_kwargs={"autoincrement": False}
    )
    facet: str = Field(primary_key=True, max_length=20)
    value: str = Field(primary_key=True, max_length=120)
    programme: str = Field(max_length=80)
    state: str = Field(max_length=80)
    emb_id: int | None = Field(default=None)


class RequestToken(SQLModel, table=True):
    """A word of a request's title or of its delegates' names, folded (no accents, no case)."""

    __tablename__ = "request_token"
    __table_args__ = (sa.Index("ix_request_token_request", "request_id"),)
    token: str = Field(primary_key=True, sa_type=Token)
    request_id: int = Field(
        primary_key=True, foreign_key="request.id", sa_column_kwargs={"autoincrement": False}
    )


class EmbToken(SQLModel, table=True):
    """A word of an organisation's code, name or country (code, names in es/en/fr), folded."""

    __tablename__ = "emb_token"
    __table_args__ = (sa.Index("ix_emb_token_emb", "emb_id"),)
    token: str = Field(primary_key=True, sa_type=Token)
    emb_id: int = Field(
        primary_key=True, foreign_key="emb.id", sa_column_kwargs={"autoincrement": False}
    )


metadata = SQLModel.metadata
emb_table: sa.Table = Emb.__table__  # type: ignore[attr-defined]
partner_table: sa.Table = Partner.__table__  # type: ignore[attr-defined]
contact_table: sa.Table = Contact.__table__  # type: ignore[attr-defined]
workflow_version_table: sa.Table = WorkflowVersion.__table__  # type: ignore[attr-defined]
request_table: sa.Table = Request.__table__  # type: ignore[attr-defined]
history_table: sa.Table = History.__table__  # type: ignore[attr-defined]
user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
api_token_table: sa.Table = ApiToken.__table__  # type: ignore[attr-defined]
user_session_table: sa.Table = UserSession.__table__  # type: ignore[attr-defined]
sign_in_attempt_table: sa.Table = SignInAttempt.__table__  # type: ignore[attr-defined]
outbox_table: sa.Table = Outbox.__table__  # type: ignore[attr-defined]
outbox_content_table: sa.Table = OutboxContent.__table__  # type: ignore[attr-defined]
timer_table: sa.Table = Timer.__table__  # type: ignore[attr-defined]
report_draft_table: sa.Table = ReportDraft.__table__  # type: ignore[attr-defined]
report_attachment_table: sa.Table = ReportAttachment.__table__  # type: ignore[attr-defined]
request_facet_table: sa.Table = RequestFacet.__table__  # type: ignore[attr-defined]
request_token_table: sa.Table = RequestToken.__table__  # type: ignore[attr-defined]
emb_token_table: sa.Table = EmbToken.__table__  # type: ignore[attr-defined]
