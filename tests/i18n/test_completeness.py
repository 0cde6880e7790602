"""Every sentence a person reads is in every catalogue it must be in: the interface in es and
fr, mail, public pages and the brochure's rules in es, fr, pt and ar; no entry missing, empty
or fuzzy, placeholders kept; and no visible text in a template that escapes extraction."""

from __future__ import annotations

import pytest

from i18n import LANGUAGES, UI_LANGUAGES, Text, direction, negotiate, translations
from i18n.completeness import iter_problems, sentences, untranslated_template_text


def test_every_catalogue_is_complete() -> None:
    problems = list(iter_problems())
    assert not problems, (
        f"{len(problems)} catalogue problems (make messages, then translate):\n"
        + "\n".join(problems[:60])
    )


def test_no_visible_template_text_escapes_the_catalogues() -> None:
    leaks = list(untranslated_template_text())
    assert not leaks, "text outside {% trans %} / _():\n" + "\n".join(leaks[:60])


def test_mail_and_public_sentences_are_asked_of_all_five_languages() -> None:
    public = [s for s in sentences() if s.public]
    assert public, "no public sentence found: is notifications/ extracted?"
    assert all(set(s.languages()) == set(LANGUAGES) - {"en"} for s in public)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_language_translates_a_sentence_people_read(language: str) -> None:
    msgid = "This link has expired. Ask CICIE's coordination for a new link."
    assert translations(language).gettext(msgid) != msgid


def test_arabic_is_written_right_to_left_and_the_others_left_to_right() -> None:
    assert direction("ar") == "rtl"
    assert {direction(lang) for lang in LANGUAGES if lang != "ar"} == {"ltr"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("es;q=0.1, en;q=0.9", "en"),
        ("en-GB,en;q=0.8", "en"),
        ("fr-CA, es;q=0.5", "fr"),
        ("de, fr;q=0.3", "fr"),
        ("en;q=0, fr;q=0.2", "fr"),
        ("*", "es"),
        ("", "es"),
        ("es;q=abc, en;q=2", "es"),
    ],
)
def test_the_browsers_wishes_are_weighed_by_their_q_values(header: str, expected: str) -> None:
    assert negotiate(header, UI_LANGUAGES) == expected


def test_a_sentence_said_later_takes_its_parameters_into_the_same_language() -> None:
    inner = Text("This link has expired. Ask CICIE's coordination for a new link.")
    outer = Text("%(reason)s", reason=inner)
    assert outer.say("fr") == inner.say("fr") != inner.say("en")
