"""What the delegates' documents say, built from a request's data — domain only (no web, no
PDF): `documents.pdf` draws what this module writes.

Two documents per delegate once the event is confirmed (the request has passed
`confirm_logistics` and has not been withdrawn): the **invitation letter** a delegate shows a
Mexican consulate for a visa, and the **agenda pack** (programme, sessions with their
speakers, dates, venue, contacts). Each is written in the delegate's language: the delegate's
own (`language` of the `delegates` item), else the organisation's, else the request's
correspondence language, else Spanish — among the languages mail speaks (es, en, fr, pt, ar;
Arabic right to left). Every sentence is an English msgid translated by the catalogues
(`i18n/fragments/documents/`); dates are said by Babel in that language, never ISO.

Delegates are numbered from 1 in the order of the request's `delegates` list (the CLI's
`--delegate N`, the web's `/requests/{id}/delegates/{n}/…`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from babel import Locale

from config.catalogues import Catalogues
from config.letterhead import Letterhead
from engine.errors import CicieError, NotFound
from engine.views import RequestView
from i18n import LANGUAGES, RTL_LANGUAGES, Text, pick
from i18n.formatting import day
from workflows.definition import FieldDef, WorkflowDefinition

CONFIRM_TRIGGER = "confirm_logistics"  # the transition that confirms the event
KINDS = ("letter", "agenda")
# the names a workflow's `attach:` gives them → the kind of document
ATTACHMENT_KINDS = {"invitation_letter": "letter", "agenda_pack": "agenda"}
DELEGATES = "delegates"


class NotConfirmed(CicieError):
    """The event is not confirmed (yet, or any more): no letter can be issued."""

    code = "conflict"


class NoSuchDelegate(NotFound):
    """No delegate has that number in the request."""


class Organisation(Protocol):
    """The requesting organisation, as `storage.embs.EmbRow` has it."""

    @property
    def name(self) -> str: ...

    @property
    def country(self) -> str: ...

    @property
    def language(self) -> str: ...


@dataclass(frozen=True)
class Block:
    """One piece of a document: `kind` is heading | para | rows | bullets | signature | note;
    `rows` are (label, value) pairs for `rows`, (text, "") for `bullets`."""

    kind: str
    text: str = ""
    rows: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Document:
    kind: str  # letter | agenda
    language: str
    title: str
    filename: str  # ASCII, safe in a Content-Disposition and on any file system
    header: tuple[str, ...]  # the letterhead's lines, in the document's language
    footer: str
    blocks: tuple[Block, ...] = field(default=())
    author: str = ""
    on: date | None = None  # the document's date (the PDF's creation date)

    @property
    def rtl(self) -> bool:
        return self.language in RTL_LANGUAGES

    def text(self) -> str:
        """Everything the document says, as plain text (tests, previews)."""
        parts = [*self.header, self.title]
        for b in self.blocks:
            parts.append(b.text)
            parts.extend(f"{k} {v}".strip() for k, v in b.rows)
        parts.append(self.footer)
        return "\n".join(p for p in parts if p)


# ---------------------------------------------------------------- the rules
def after_confirmation(definition: WorkflowDefinition) -> frozenset[str]:
    """The states a request is in once its event is confirmed: the destination of
    `confirm_logistics` and every state reached from it by the programme's own moves — not
    the generic exits (`source: active`: withdraw, put on hold), which cancel or pause it."""
    reached: set[str] = set()
    pending = [t.dest for t in definition.transitions if t.trigger == CONFIRM_TRIGGER]
    while pending:
        state = pending.pop()
        if state in reached or state not in definition.states:
            continue
        reached.add(state)
        pending.extend(
            t.dest
            for t in definition.transitions
            if state in t.sources and state not in t.generic_sources
        )
    return frozenset(reached)


def is_confirmed(definition: WorkflowDefinition, view: RequestView) -> bool:
    """Whether the request's event is confirmed: its state (or, on hold, the state it was
    held from) comes after `confirm_logistics`."""
    state = view.state
    if definition.states.get(state) is not None and definition.states[state].hold:
        state = view.held_from or state
    return state in after_confirmation(definition)


def delegates_of(view: RequestView) -> list[Mapping[str, Any]]:
    items = view.data.get(DELEGATES)
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, Mapping)]


def delegate(view: RequestView, number: int) -> Mapping[str, Any]:
    """Delegate `number` (from 1) of the request; NoSuchDelegate names how many there are."""
    people = delegates_of(view)
    if not 1 <= number <= len(people):
        raise NoSuchDelegate(
            Text(
                "Request %(id)s has no delegate %(number)s (its delegation has %(count)s).",
                id=view.id,
                number=number,
                count=len(people),
            ),
            [{"field": DELEGATES, "message": "out of range", "count": len(people)}],
        )
    return people[number - 1]


def check_available(definition: WorkflowDefinition, view: RequestView) -> None:
    if not is_confirmed(definition, view):
        raise NotConfirmed(
            Text(
                "The delegates' documents of request %(id)s are issued once its logistics are "
                "confirmed (and not after it is withdrawn); it is now at “%(state)s”.",
                id=view.id,
                state=definition.states[view.state].label,
            )
        )


def language_of(person: Mapping[str, Any], organisation: Organisation | None, data: Any) -> str:
    """The delegate's language, else the organisation's, else the request's correspondence
    language, else Spanish (only languages the documents are written in)."""
    return (
        pick(
            _text(person.get("language")),
            organisation.language if organisation else None,
            _text(data.get("contact_language")) if isinstance(data, Mapping) else None,
            available=LANGUAGES,
        )
        or "es"
    )


# ---------------------------------------------------------------- the documents
@dataclass(frozen=True)
class Sources:
    """What a document is written from, besides the request."""

    definition: WorkflowDefinition
    catalogues: Catalogues
    letterhead: Letterhead
    organisation: Organisation | None
    today: date


def build(kind: str, view: RequestView, number: int, src: Sources) -> Document:
    """Document `kind` (letter | agenda) of delegate `number` of the request; NotConfirmed
    before the logistics are confirmed, NoSuchDelegate for a number out of range."""
    if kind not in KINDS:
        raise ValueError(f"unknown document kind {kind!r} (known: {', '.join(KINDS)})")
    check_available(src.definition, view)
    person = delegate(view, number)
    lang = language_of(person, src.organisation, view.data)
    writer = _Writer(view, person, number, lang, src)
    return writer.letter() if kind == "letter" else writer.agenda()


class _Writer:
    def __init__(
        self,
        view: RequestView,
        person: Mapping[str, Any],
        number: int,
        lang: str,
        src: Sources,
    ) -> None:
        self.view, self.person, self.number, self.lang, self.src = view, person, number, lang, src
        self.data = view.data
        self.name = _text(person.get("name")) or "—"

    def say(self, text: Text) -> str:
        return text.say(self.lang)

    # -------------------------------------------------------------- shared pieces
    def _header(self) -> tuple[str, ...]:
        lh, lang = self.src.letterhead, self.lang
        return (lh.institution.get(lang), lh.parent.get(lang), lh.partners.get(lang))

    def _footer(self) -> str:
        lh = self.src.letterhead
        return f"{lh.address} · {lh.email}"

    def _programme(self) -> str:
        return self.src.definition.title.get(self.lang)

    def _dates(self) -> str:
        start, end = self.data.get("event_start"), self.data.get("event_end")
        if start and end and start != end:
            return self.say(
                Text(
                    "from %(start)s to %(end)s",
                    start=day(start, self.lang),
                    end=day(end, self.lang),
                )
            )
        return day(start or end, self.lang)

    def _organisation(self) -> str:
        org = self.src.organisation
        return org.name if org else ""

    def _country(self) -> str:
        org = self.src.organisation
        if not org or not org.country:
            return ""
        name = Locale.parse(self.lang).territories.get(org.country.upper())
        return str(name) if name else org.country

    def _venue(self) -> str:
        return _text(self.data.get("venue"))

    def _filename(self, what: str) -> str:
        slug = _ascii_slug(self.name) or "delegate"
        return f"cicie-{self.view.id}-{what}-{self.number}-{slug}.pdf"

    def _document(self, kind: str, title: str, what: str, blocks: list[Block]) -> Document:
        return Document(
            kind=kind,
            language=self.lang,
            title=title,
            filename=self._filename(what),
            header=self._header(),
            footer=self._footer(),
            blocks=tuple(blocks),
            author=self.src.letterhead.institution.get(self.lang),
            on=self.src.today,
        )

    def _person_rows(self) -> list[tuple[str, str]]:
        p = self.person
        rows = [(self.say(Text("Name:")), self.name)]
        if _text(p.get("nationality")):
            rows.append((self.say(Text("Nationality:")), _text(p.get("nationality"))))
        if _text(p.get("passport_number")):
            rows.append((self.say(Text("Passport number:")), _text(p.get("passport_number"))))
        if _text(p.get("position")):
            rows.append((self.say(Text("Position:")), _text(p.get("position"))))
        if self._organisation():
            rows.append((self.say(Text("Institution:")), self._organisation()))
        if self._country():
            rows.append((self.say(Text("Country:")), self._country()))
        return rows

    def _cost_rows(self) -> list[tuple[str, str]]:
        matrix = self.data.get("cost_sharing")
        if not isinstance(matrix, Mapping):
            return []
        financing = self.src.catalogues.financing
        rows = []
        for category in financing.categories.values():
            payer = matrix.get(category.id)
            if not payer or payer == "not_needed":
                continue
            found = financing.payers.get(payer)
            rows.append(
                (category.label.get(self.lang), found.get(self.lang) if found else str(payer))
            )
        return rows

    def _signature(self) -> Block:
        lh = self.src.letterhead
        return Block(
            "signature",
            rows=(
                (lh.signatory_name, ""),
                (lh.signatory_title.get(self.lang), ""),
                (lh.institution.get(self.lang), ""),
            ),
        )

    # -------------------------------------------------------------- the letter
    def letter(self) -> Document:
        lh, lang = self.src.letterhead, self.lang
        blocks = [
            Block(
                "dateline",
                self.say(
                    Text(
                        "%(city)s, %(date)s", city=lh.city.get(lang), date=day(self.src.today, lang)
                    )
                ),
            ),
            Block(
                "para", self.say(Text("Ref.: CICIE request no. %(number)s", number=self.view.id))
            ),
            Block("rows", rows=tuple(self._person_rows())),
            Block("para", self.say(Text("Dear %(name)s,", name=self.name))),
            Block(
                "para",
                self.say(
                    Text(
                        "On behalf of the %(institution)s, we are pleased to invite you to take "
                        "part in “%(title)s” (%(programme)s), to be held %(dates)s at %(venue)s, "
                        "in Mexico.",
                        institution=lh.institution.get(lang),
                        title=self.view.title,
                        programme=self._programme(),
                        dates=self._dates(),
                        venue=self._venue() or lh.city.get(lang),
                    )
                ),
            ),
            Block(
                "para",
                self.say(
                    Text(
                        "CICIE was created by the National Electoral Institute of Mexico (INE) "
                        "together with the United Nations Development Programme in Mexico (UNDP "
                        "Mexico) and the Electoral Tribunal of the Federal Judiciary (TEPJF) to "
                        "support electoral bodies through exchange, training and research."
                    )
                ),
            ),
            Block(
                "para",
                self.say(
                    Text(
                        "We kindly ask the consular authorities of Mexico to grant the visa this "
                        "delegate may need to enter the country for this official activity. The "
                        "visit is for the programme only and involves no paid activity in Mexico."
                    )
                ),
            ),
        ]
        costs = self._cost_rows()
        if costs:
            blocks.append(
                Block("para", self.say(Text("The costs of the visit are shared as follows:")))
            )
            blocks.append(Block("costs", rows=tuple(costs)))
        blocks += [
            Block(
                "para",
                self.say(Text("For any question, please write to %(email)s.", email=lh.email)),
            ),
            Block("para", self.say(Text("Yours sincerely,"))),
            self._signature(),
        ]
        return self._document("letter", self.say(Text("Invitation letter")), "invitation", blocks)

    # -------------------------------------------------------------- the agenda pack
    def agenda(self) -> Document:
        lh, lang = self.src.letterhead, self.lang
        facts = [
            (self.say(Text("Programme:")), self._programme()),
            (self.say(Text("Dates:")), self._dates()),
            (self.say(Text("Venue:")), f"{self._venue()}, {lh.city.get(lang)}".strip(", ")),
            (self.say(Text("Prepared for:")), self.name),
        ]
        organisers = [lh.institution.get(lang), lh.parent.get(lang), lh.partners.get(lang)]
        organisers += self._co_organisers()
        blocks = [
            Block("heading", f"“{self.view.title}”"),
            Block("rows", rows=tuple(facts)),
            Block("heading", self.say(Text("Organised by"))),
            Block("bullets", rows=tuple((o, "") for o in organisers if o)),
        ]
        sessions = self._sessions()
        blocks.append(Block("heading", self.say(Text("Agenda sessions"))))
        if sessions:
            blocks += sessions
        else:
            blocks.append(
                Block("para", self.say(Text("The sessions will be sent to you shortly.")))
            )
        people = [
            (", ".join(t for t in (_text(p.get("name")), _text(p.get("position"))) if t), "")
            for p in delegates_of(self.view)
        ]
        if people:
            blocks.append(Block("heading", self.say(Text("Visiting delegation"))))
            blocks.append(Block("bullets", rows=tuple(people)))
        blocks.append(Block("heading", self.say(Text("Contacts"))))
        contacts = [(self.say(Text("CICIE coordination:")), lh.email)]
        contact_name = _text(self.data.get("contact_name"))
        contact_email = _text(self.data.get("contact_email"))
        if contact_name or contact_email:
            who = contact_name + (f" <{contact_email}>" if contact_email else "")
            contacts.append((self.say(Text("Your institution's contact person:")), who.strip()))
        blocks.append(Block("rows", rows=tuple(contacts)))
        blocks.append(
            Block(
                "note",
                self.say(Text("The agenda may still change; CICIE will tell you of any change.")),
            )
        )
        return self._document("agenda", self.say(Text("Agenda pack")), "agenda", blocks)

    def _co_organisers(self) -> list[str]:
        partners = self.src.catalogues.partners
        out = []
        for code in self.data.get("co_organisers") or ():
            found = partners.get(code) if isinstance(code, str) else None
            if found is not None and found.kind != "founder":
                out.append(found.name)
        return out

    def _sessions(self) -> list[Block]:
        sessions = self.data.get("agenda_sessions")
        if not isinstance(sessions, list):
            return []
        spec = self.src.definition.fields.get("agenda_sessions")
        stages_spec = _subfield(spec, "stages")
        themes = self.src.catalogues.themes
        out = []
        for n, session in enumerate(s for s in sessions if isinstance(s, Mapping)):
            out.append(
                Block(
                    "subheading",
                    self.say(
                        Text(
                            "Session %(number)s: %(title)s",
                            number=n + 1,
                            title=_text(session.get("title")) or "—",
                        )
                    ),
                )
            )
            rows = []
            theme_id = session.get("theme")
            theme = themes.get(theme_id) if isinstance(theme_id, str) else None
            if theme is not None:
                rows.append((self.say(Text("Theme:")), theme.label.get(self.lang)))
            stages = [_value_label(stages_spec, s, self.lang) for s in session.get("stages") or ()]
            if stages:
                rows.append((self.say(Text("Methodology:")), "; ".join(stages)))
            speakers = [
                _text(p.get("name"))
                + (f" ({_text(p.get('institution'))})" if p.get("institution") else "")
                for p in session.get("speakers") or ()
                if isinstance(p, Mapping) and _text(p.get("name"))
            ]
            if speakers:
                rows.append((self.say(Text("Speakers:")), "; ".join(speakers)))
            if rows:
                out.append(Block("rows", rows=tuple(rows)))
        return out


def _subfield(spec: FieldDef | None, name: str) -> FieldDef | None:
    items = spec.items if spec is not None else None
    return next((f for f in items.fields if f.name == name), None) if items else None


def _value_label(spec: FieldDef | None, value: Any, lang: str) -> str:
    item = spec.items if spec is not None else None
    label = item.value_label(value) if item is not None else None
    return label.get(lang) if label is not None else str(value).replace("_", " ")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _ascii_slug(text: str, limit: int = 40) -> str:
    """ "María José Núñez" → "maria-jose-nunez" (letters without an ASCII form dropped)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")[:limit].strip("-")


def documents_for(
    kinds: Sequence[str], view: RequestView, numbers: Sequence[int], src: Sources
) -> list[Document]:
    """Several documents at once (mail): each kind for each delegate number."""
    return [build(kind, view, n, src) for n in numbers for kind in kinds]
