"""Codes said as words (i18n/vocabulary.py): recipient groups, roles, events, regions…"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from i18n import LANGUAGES, has_translation
from i18n.vocabulary import TABLES, actor, language_name, term, terms, timer_comment


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_word_of_the_vocabulary_is_translated(language: str) -> None:
    missing = sorted(
        text.msgid
        for table in TABLES.values()
        for text in table.values()
        if not has_translation(language, text.msgid)
    )
    assert not missing, f"{language} lacks: {missing}"


def test_recipient_groups_are_said_as_a_list_in_the_readers_language() -> None:
    assert terms("recipient", ["intern", "emb_contacts"], "es") == (
        "la persona pasante y los contactos del OAE"
    )
    assert terms("recipient", ["founders"], "en") == "the founding partners"
    assert term("region", "latin_america", "fr") == "Amérique latine"
    assert term("event", "request_received", "pt") == "Pedido recebido"


def test_a_code_nobody_named_is_said_without_underscores() -> None:
    assert term("event", "speakers_briefed", "es") == "Speakers briefed"


def test_who_acted_is_a_name_and_a_role_never_a_code() -> None:
    assert actor("coordinator:ana", "es") == "ana (Coordinador)"
    assert actor("coordinator:coordinator", "en") == "Coordinator"
    assert actor("system:timer", "fr") == "CICIE (automatique)"
    assert actor("intern:lu@example.org", "en") == "lu@example.org (Intern)"


def test_a_timers_comment_is_read_back_as_its_due_time() -> None:
    kind, due = timer_comment("reminder due 2026-12-01T21:40:30.998879+00:00") or ("", None)
    assert kind == "reminder"
    assert due == datetime(2026, 12, 1, 21, 40, 30, 998879, tzinfo=UTC)
    assert timer_comment("deadline 'final_report_overdue' due 2026-12-01T21:40:30+00:00")
    assert timer_comment("Accepted by phone") is None


def test_languages_are_named_in_the_readers_language() -> None:
    assert language_name("ar", "es") == "árabe"
    assert language_name("pt", "fr") == "portugais"
