"""Templates compiled in each language (their sentences, `language` and `direction` put into
the compiled code, notifications/render.py `_Sentences`) say exactly what the templates as
written say when every sentence is translated at render time: every shipped mail, in every
language, for each kind of recipient, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.bootstrap import Runtime
from i18n import LANGUAGES
from notifications import preview
from notifications.outbox_writer import preview_context
from notifications.recipient import Recipient
from notifications.render import MailRenderer, TemplateError

ROLES = ("emb_contacts", "founders", "speakers", "delegates", "coordinator")
COMMENT = "Llegada el <b>lunes</b> & 'R&D' \"notes\" %(name)s"


def test_every_mail_reads_the_same_compiled_or_not(runtime: Runtime) -> None:
    compiled, plain = MailRenderer(), MailRenderer(compile_sentences=False)
    programmes = {n: runtime.registry.current(n).definition for n in runtime.registry.names()}
    compared = 0
    for template in sorted(compiled.templates()):
        programme, state = preview._sample_for(template, programmes)
        definition = programmes[programme]
        view, emb = preview._sample_request(programme, state, "stage")
        for language in LANGUAGES:
            for role in ROLES:
                for name in ("Ana María Pérez & Co <x>", ""):
                    recipient = Recipient(role, name, "ana@example.org", language)
                    context = preview_context(
                        view, definition, emb, recipient, "https://cicie.example.org", language
                    )
                    context["comment"] = COMMENT
                    context["changes"] = {"event_start": ["2016-06-01", "2016-06-08"]}
                    context["what"] = {"es": "el informe", "en": "the report", "fr": "le rapport"}
                    written = compiled.render(template, recipient, context, language=language)
                    assert written == plain.render(
                        template, recipient, context, language=language
                    ), f"{template}/{language}/{role}"
                    compared += 1
    assert compared == len(compiled.templates()) * len(LANGUAGES) * len(ROLES) * 2


def _renderer(tmp_path: Path, files: dict[str, str]) -> MailRenderer:
    layout = tmp_path / "layout"
    layout.mkdir()
    for part in ("body.txt", "body.html"):
        (layout / part).write_text("{% block body %}{% endblock %}", encoding="utf-8")
    folder = tmp_path / "note"
    folder.mkdir()
    for part, text in files.items():
        (folder / part).write_text(text, encoding="utf-8")
    return MailRenderer(tmp_path)


def test_a_template_that_assigns_the_render_language_is_refused(tmp_path: Path) -> None:
    renderer = _renderer(
        tmp_path,
        {
            "subject.txt": "{{ _('Hello') }}",
            "body.txt": '{% set direction = "ltr" %}{{ direction }}',
            "body.html": "<p>{{ _('Hello') }}</p>",
        },
    )
    with pytest.raises(TemplateError, match="direction"):
        renderer.render("note", Recipient("coordinator", "", "a@example.org", "en"), {})


def test_a_value_set_before_a_block_is_read_as_the_block_sees_it(tmp_path: Path) -> None:
    """A constant set at the top of a template is compiled in only where the template
    itself reads it after setting it, never inside a block (a child template may set the
    name again before the block runs)."""
    renderer = _renderer(
        tmp_path,
        {
            "subject.txt": "{% set word = 'a' %}{{ word }}{% set other = word %}{{ other }}",
            "body.txt": '{% set side = "right" if direction == "rtl" else "left" %}{{ side }}',
            "body.html": "{% set side = 'x' %}{% block b %}{{ side }}{% endblock %}{{ side }}",
        },
    )
    recipient = Recipient("coordinator", "", "a@example.org", "en")
    written = renderer.render("note", recipient, {}, language="en")
    assert (written.subject, written.text, written.html) == ("aa", "left", "xx")
    for language, side in (("en", "ltr left"), ("ar", "rtl right")):
        env = renderer.environment(language, html=False)
        compiled = env.from_string(
            '{% set side = "right" if direction == "rtl" else "left" %}{{ direction }} {{ side }}'
        )
        assert compiled.render() == side
