"""The words for the codes the system keeps: recipient groups, roles, events (mail templates),
mail statuses, regions and continents, timer kinds, languages. Pages, mail and the CLI say a
code through these tables (`term(kind, code, language)`), so no `emb_contacts` or
`request_received` reaches a person; a code the tables do not know is said without its
underscores rather than as a code.

Also the people in a request's history: `actor("coordinator:ana", language)` → "ana
(Coordinator)", `system:timer` → "CICIE (automatic)", `delegate:x@y.org` → "Delegate
(x@y.org)"."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from babel import Locale
from babel.core import UnknownLocaleError

from i18n import Text, say

# who a message goes to (workflows: `notify: to: [...]`)
RECIPIENT_GROUPS: Mapping[str, Text] = {
    "founders": Text("the founding partners"),
    "associate_partner": Text("the associate partner"),
    "emb_contacts": Text("the EMB's contacts"),
    "coordinator": Text("the CICIE coordination"),
    "programme_lead": Text("the programme lead"),
    "intern": Text("the intern"),
    "delegates": Text("the delegates"),
    "delegate": Text("the delegate"),
    "speakers": Text("the speakers"),
    "partner": Text("the partner"),
}

# who acts: the accounts' roles, and those who act through a link or on their own
ROLES: Mapping[str, Text] = {
    "admin": Text("Administrator"),
    "coordinator": Text("Coordinator"),
    "viewer": Text("Viewer"),
    "partner": Text("Partner"),
    "intern": Text("Intern"),
    "delegate": Text("Delegate"),
    "delegates": Text("Delegate"),
    "system": Text("System"),
}

# what happened, named by the mail it sends (`template:` in the workflows)
EVENTS: Mapping[str, Text] = {
    "request_received": Text("Request received"),
    "agenda_approved": Text("Agenda approved"),
    "dates_changed": Text("Dates changed"),
    "logistics_confirmed": Text("Logistics confirmed"),
    "final_report_requested": Text("Final report requested"),
    "final_report_received": Text("Final report received"),
    "request_closed": Text("Request closed"),
    "request_declined": Text("Request declined"),
    "request_on_hold": Text("Request put on hold"),
    "request_resumed": Text("Request resumed"),
    "request_withdrawn": Text("Request withdrawn"),
    "reminder": Text("Reminder"),
    "escalation": Text("Escalation"),
}

# a message in the outbox
MAIL_STATUSES: Mapping[str, Text] = {
    "pending": Text("Queued"),
    "queued": Text("Queued"),
    "retrying": Text("Retrying"),
    "sending": Text("Sending"),
    "sent": Text("Sent"),
    "failed": Text("Failed"),
    "dead": Text("Not delivered"),
}

# the regions of courses and seminars (results/history_format.py REGIONS, the `region` field)
REGIONS: Mapping[str, Text] = {
    "latin_america": Text("Latin America"),
    "caribbean": Text("Caribbean"),
    "north_america": Text("North America"),
    "africa": Text("Africa"),
    "arab_states": Text("Arab States"),
    "europe": Text("Europe"),
    "asia_pacific": Text("Asia and the Pacific"),
    "inter_regional": Text("Inter-regional"),
}

# the brochure's five continents (results/countries.py CONTINENTS), and what has none
CONTINENTS: Mapping[str, Text] = {
    "Africa": Text("Africa"),
    "America": Text("America"),
    "Asia": Text("Asia"),
    "Europe": Text("Europe"),
    "Oceania": Text("Oceania"),
    "Unknown": Text("Unknown continent"),
    # an activity whose countries span continents (results/countries.py INTER_REGIONAL)
    "Inter-regional": Text("Inter-regional"),
}

# timers (workflows: `kind:`)
TIMER_KINDS: Mapping[str, Text] = {
    "reminder": Text("Reminder"),
    "escalation": Text("Escalation"),
    "transition": Text("Deadline"),
    "deadline": Text("Deadline"),
    "lead_time": Text("Lead time"),  # config/catalogues/lead_times.yaml (issue 14, item 8)
}

TABLES: Mapping[str, Mapping[str, Text]] = {
    "recipient": RECIPIENT_GROUPS,
    "role": ROLES,
    "event": EVENTS,
    "mail_status": MAIL_STATUSES,
    "region": REGIONS,
    "continent": CONTINENTS,
    "timer_kind": TIMER_KINDS,
}


def humanise(code: str) -> str:
    """A code no table knows, said without underscores: `before_elections` → "Before
    elections"."""
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def term(kind: str, code: str | None, language: str) -> str:
    """The word for `code` in `language` (`kind` is a key of `TABLES`)."""
    if code is None or code == "":
        return ""
    found = TABLES[kind].get(code)
    return found.say(language) if found is not None else humanise(str(code))


def terms(kind: str, codes: object, language: str) -> str:
    """Several codes said as one list ("the founding partners and the EMB's contacts")."""
    items = list(codes) if isinstance(codes, list | tuple | set | frozenset) else [codes]
    return say([TABLES[kind].get(str(c)) or humanise(str(c)) for c in items], language)


def language_name(code: str | None, language: str) -> str:
    """A language's own name in `language`: `ar` in Spanish is "árabe"."""
    if not code:
        return ""
    try:
        name = Locale.parse(language).languages.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return str(name) if name else code


_ACTOR = re.compile(r"^(?P<role>[a-z_]+):(?P<name>.*)$", re.DOTALL)


def actor(value: str | None, language: str) -> str:
    """Who made a change, as a person reads it: the name and the role in words."""
    if not value:
        return ""
    match = _ACTOR.match(value)
    if match is None:
        return value
    role, name = match["role"], match["name"]
    if role == "system":
        return Text("CICIE (automatic)").say(language)
    role_word = term("role", role, language)
    if not name or name == role:
        return role_word
    return Text("%(name)s (%(role)s)", name=name, role=role_word).say(language)


_TIMER_COMMENT = re.compile(
    r"^(?P<kind>reminder|escalation|deadline '[^']*') due (?P<at>\d{4}-\d{2}-\d{2}T[0-9:.+\-Z]+)$"
)


def timer_comment(comment: str | None) -> tuple[str, datetime] | None:
    """The comment a fired timer leaves in the history ("reminder due 2026-12-01T21:40:30
    +00:00"), read back as (kind, due time); None for any other comment."""
    if not comment:
        return None
    match = _TIMER_COMMENT.match(comment.strip())
    if match is None:
        return None
    try:
        at = datetime.fromisoformat(match["at"].replace("Z", "+00:00"))
    except ValueError:
        return None
    kind = match["kind"]
    return ("deadline" if kind.startswith("deadline") else kind), at


# the kinds of organisation that request programmes (workflows.definition.ORGANISATION_KINDS;
# the brochure: "To whom are the Center's programs addressed to?")
ORGANISATION_KINDS: Mapping[str, Text] = {
    "emb": Text("Electoral management body"),
    "civil_society": Text("Civil society organisation"),
    "political_party": Text("Political party"),
    "academic": Text("Academic institution"),
    "other": Text("Other organisation"),
}


def organisation_kind(code: str | None, language: str) -> str:
    """An organisation's kind in words (`political_party` → "Political party")."""
    if not code:
        return ""
    found = ORGANISATION_KINDS.get(code)
    return found.say(language) if found is not None else humanise(code)


# `term("organisation_kind", code, language)` and the templates' `|term("organisation_kind")`
TABLES = {**TABLES, "organisation_kind": ORGANISATION_KINDS}
