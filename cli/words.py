"""What a command prints for people, in their language: a request's line, its history and
its coming timers, with the workflow's own labels and the vocabulary's words for codes
(`i18n.vocabulary`), times in the centre's zone with the zone named (`i18n.formatting`).

The codes a person types in the next command stay beside their label, in parentheses: the
trigger of `cicie request advance ID TRIGGER`, the state of `--state`, the request's id. The
codes nobody types (recipient groups, templates, actor prefixes, timer kinds, statuses) are
said as words. `--json` keeps every code: this module only makes text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from i18n import Text
from i18n.formatting import moment
from i18n.vocabulary import actor, humanise, language_name, term, terms, timer_comment

if TYPE_CHECKING:  # types only: a command group imports this module for its `--help` too
    from engine.bootstrap import Runtime
    from engine.my_work import MyWork
    from engine.views import Availability, HistoryEntry, RequestView, TimelineEntry
    from workflows.definition import WorkflowDefinition

# the changes a request's history records that are no transition of its workflow
_OWN_TRIGGERS = {
    "create": Text("Created"),
    "update": Text("Data changed"),
    "revoke_links": Text("Links revoked"),
    "migrate": Text("Moved to another version of its workflow"),
}

# changes whose comment the engine writes itself (in English, for logs): their action says it
_ENGINE_COMMENTS = frozenset({"revoke_links", "migrate"})


class Words:
    """The labels of one workflow version in one language."""

    def __init__(self, definition: WorkflowDefinition, lang: str, zone: str) -> None:
        self.definition = definition
        self.lang = lang
        self.zone = zone
        self._actions = {t.trigger: t.label for t in definition.transitions}
        self._timers = {t.id: t.label for t in definition.timers}

    @property
    def programme(self) -> str:
        return self.definition.title.get(self.lang)

    def state(self, name: str | None) -> str:
        if not name:
            return "—"
        found = self.definition.states.get(name)
        return found.label.get(self.lang) if found is not None else humanise(name)

    def action(self, trigger: str) -> str:
        """What a change did: the transition's label, a timer's, or the engine's own words."""
        if trigger in _OWN_TRIGGERS:
            return _OWN_TRIGGERS[trigger].say(self.lang)
        if trigger in self._actions:
            return self._actions[trigger].get(self.lang)
        if trigger.startswith("timer:"):
            return self.timer(trigger.removeprefix("timer:"))
        return humanise(trigger)

    def timer(self, name: str, fallback: str | None = None) -> str:
        if name in self._timers:
            return self._timers[name].get(self.lang)
        return fallback or humanise(name)

    def field(self, name: str) -> str:
        found = self.definition.fields.get(name)
        if found is not None and found.label is not None:
            return found.label.get(self.lang)
        return humanise(name)

    def when(self, value: Any) -> str:
        return moment(value, self.lang, self.zone)


def request_line(view: RequestView, words: Words) -> str:
    """One request: its id, its state (label, then the code `--state` takes), its programme,
    its EMB and title, and the version `--expect-version` takes."""
    lang = words.lang
    return Text(
        "#%(id)s [%(state)s (%(code)s)] %(programme)s · %(emb)s: %(title)s (version %(version)s)",
        id=view.id,
        state=words.state(view.state),
        code=view.state,
        programme=words.programme,
        emb=view.emb or "—",
        title=view.title,
        version=view.version,
    ).say(lang)


def availability_lines(available: Iterable[Availability], lang: str) -> list[str]:
    """What can be done now: each action's label, its trigger to type, and why it cannot."""
    lines = []
    for a in available:
        label = a.to_dict(lang)["label"]
        if a.allowed:
            lines.append(
                "  "
                + Text(
                    "%(action)s (%(trigger)s): possible now", action=label, trigger=a.trigger
                ).say(lang)
            )
        else:
            lines.append(
                "  "
                + Text(
                    "%(action)s (%(trigger)s): not possible yet", action=label, trigger=a.trigger
                ).say(lang)
            )
        lines.extend(f"    - {r}" for r in a.messages(lang))
    return lines


def show_text(view: RequestView, available: Iterable[Availability], words: Words) -> str:
    """`request show`: the request's line, then what can be done now and why not."""
    return "\n".join([request_line(view, words), *availability_lines(available, words.lang)])


def history_lines(entries: Sequence[HistoryEntry], words: Words) -> list[str]:
    """Every change, oldest first: when and who, then what it did, what it changed, the due
    time of the timer that made it, and the mail it queued."""
    lang = words.lang
    lines: list[str] = []
    for h in entries:
        lines.append(
            Text(
                "%(when)s — %(who)s, version %(version)s",
                when=words.when(h.at),
                who=actor(h.actor, lang),
                version=h.version,
            ).say(lang)
        )
        action = words.action(h.trigger)
        if h.from_state != h.to_state:
            action = Text(
                "%(action)s: %(source)s → %(target)s",
                action=action,
                source=words.state(h.from_state),
                target=words.state(h.to_state),
            ).say(lang)
        lines.append(f"  {action}")
        due = timer_comment(h.comment) if h.actor.startswith("system:") else None
        if due is not None:
            lines.append("  " + Text("Due on %(when)s", when=words.when(due[1])).say(lang))
        elif h.comment and h.trigger not in _ENGINE_COMMENTS:
            lines.append(f"  {quoted(h.comment, lang)}")
        if h.changes:
            changed = [words.field(f) for f in h.changes]
            lines.append(f"  {Text('Changed:').say(lang)} {', '.join(changed)}")
        for m in h.mails:
            lines.append("  " + mail_line(m, lang))
    return lines


def mail_line(mail: dict[str, Any], lang: str) -> str:
    """A message a change queued: to whom, what about, in which language, how it stands."""
    parts = [
        f"✉ {mail.get('to', '')}",
        term("event", mail.get("template"), lang),
        language_name(mail.get("language"), lang),
    ]
    wanted = mail.get("wanted_language")
    if wanted and wanted != mail.get("language"):
        parts[-1] += (
            " ("
            + Text(
                "fallback: the recipient's language, %(language)s, was not available",
                language=language_name(wanted, lang),
            ).say(lang)
            + ")"
        )
    parts.append(term("mail_status", mail.get("status"), lang))
    return " · ".join(p for p in parts if p)


def timeline_lines(entries: Sequence[TimelineEntry], words: Words) -> list[str]:
    """Every reminder, escalation and deadline to come: when, what kind, what about (the
    timer's label; for a deadline, the action it takes), and to whom."""
    lang = words.lang
    lines = []
    for t in entries:
        kind = term("timer_kind", t.kind, lang)
        if t.status == "projected":
            kind += f" ({Text('planned').say(lang)})"
        what = words.timer(t.timer, t.label)
        if t.kind == "transition" and t.what:
            what += f" ({words.action(t.what)})"
        elif t.what and t.what not in ("reminder", "escalation"):
            what += f" ({term('event', t.what, lang)})"
        to = terms("recipient", list(t.recipients), lang) if t.recipients else "—"
        lines.append(f"{words.when(t.due_at)} · {kind} · {what} · {to}")
    return lines


def date_or_never(value: Any, lang: str, zone: str) -> str:
    """A moment, or "never" when there is none."""
    return moment(value, lang, zone) if value else Text("never").say(lang)


def quoted(text: str, lang: str) -> str:
    """A person's own words, in the quotation marks of `lang`."""
    if lang == "fr":
        return f"«\u00a0{text}\u00a0»"
    if lang == "es":
        return f"«{text}»"
    return f"“{text}”"


def words_for(rt: Runtime, view: RequestView, lang: str) -> Words:
    """The labels of the workflow version `view` is pinned to."""
    return Words(rt.engine.definition_of(view).definition, lang, rt.settings.timezone)


def delivery_text(result: dict[str, int], lang: str) -> str:
    """What one pass of the outbox did, in `lang`."""
    return Text(
        "Mail — sent: %(sent)s, to try again later: %(retrying)s, not delivered: %(dead)s.",
        sent=result.get("sent", 0),
        retrying=result.get("retrying", 0),
        dead=result.get("dead", 0),
    ).say(lang)


def work_lines(work: MyWork, lang: str, zone: str) -> list[str]:
    """ "Needs my action" as text: the summary, each request with its steps (the trigger to
    type beside each, and why a step is blocked), its due moment, and the escalations
    addressed to the role."""
    if not work.can_act:
        return [
            Text(
                "Your role (%(role)s) can read every request but not move one forward, so no "
                "request waits for you.",
                role=term("role", work.role, lang),
            ).say(lang)
        ]
    summary = Text("Requests you can move forward now: %(count)s.", count=work.counts.total)
    lines = [summary.say(lang)]
    if work.counts.overdue:
        lines[0] += " " + Text("Overdue: %(count)s.", count=work.counts.overdue).say(lang)
    for item in work.items:
        org = f"{item.emb_name} ({item.emb_code})" if item.emb_code else "—"
        head = f"#{item.id} {item.title} · {item.programme_title.get(lang)} · "
        head += f"{item.state_label.get(lang)} · {org}"
        lines.append(head)
        due = []
        if item.overdue:
            due.append(Text("Past due").say(lang))
        if item.due_at is not None:
            label = f" · {item.due_label.get(lang)}" if item.due_label is not None else ""
            due.append(moment(item.due_at, lang, zone) + label)
        if due:
            lines.append("  " + " · ".join(due))
        for action in item.actions:
            said = action.label.get(lang) if action.label is not None else action.trigger
            if action.allowed:
                sentence = Text(
                    "%(action)s (%(trigger)s): possible now", action=said, trigger=action.trigger
                )
            else:
                sentence = Text(
                    "%(action)s (%(trigger)s): not possible yet",
                    action=said,
                    trigger=action.trigger,
                )
            lines.append("  " + sentence.say(lang))
            lines.extend(f"    - {reason.say(lang)}" for reason in action.reasons)
    if work.escalations_to:
        to = terms("recipient", work.escalations_to, lang)
        lines.append(Text("Escalated to %(recipients)s", recipients=to).say(lang))
        for note in work.escalations:
            parts = [f"#{note.request_id} {note.title}"]
            if note.timer_label is not None:
                parts.append(note.timer_label.get(lang))
            if note.fired_at is not None:
                parts.append(moment(note.fired_at, lang, zone))
            lines.append("  " + " · ".join(parts))
        if not work.escalations:
            lines.append("  " + Text("No escalation is waiting for you.").say(lang))
    if work.pages > 1:
        lines.append(Text("Page %(page)s of %(pages)s", page=work.page, pages=work.pages).say(lang))
    return lines
