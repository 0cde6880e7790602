"""The compiled templates' own code paths (notifications/render.py `_CodeGenerator`: output
escaped without a Markup per value, sentences with values formatted by `_say`, C methods
called without `Context.call`, dict attributes read directly, templates kept between
renders) write exactly what Jinja writes for the templates as written
(`MailRenderer(compile_sentences=False)`), including for the values the shipped templates do
not happen to print: markup characters, Markup, numbers, objects with `__html__`, None."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from notifications.recipient import Recipient
from notifications.render import MailRenderer, Rendered, TemplateError

NASTY = "Ana <María> & \"Co\" 'x'"
NASTY_HTML = "Ana &lt;María&gt; &amp; &#34;Co&#34; &#39;x&#39;"

BODY = """\
{% macro bold(x) %}<b>{{ x }}</b>{% endmacro %}
{{ _("Dear %(name)s,", name=name) }}
{{ _("Made by %(who)s", who=bold(name)) }}
{{ _("Number %(n)s of %(total)s", n=count, total=total) }}
{{ _("Nested: %(inner)s", inner=_("inner %(v)s", v=name)) }}
{% set kept = _("Kept %(v)s", v=name) %}{{ kept }}|{{ kept|length }}
{{ _("Percent %(v)s %%", v=name) }}
{{ _("Digits %(n)d", n=count) }}
{{ _("Safe %(v)s", v=trusted) }}
{{ _("Nothing: %(v)s", v=nothing) }}
{{ _("Amount %(v)s, object %(o)s", v=amount, o=obj) }}
{{ name }} {{ trusted }} {{ count }} {{ amount }} {{ obj }} {{ bold(name) }}
{{ data.get("a") }} {{ data.get("missing", "default") }} {{ data["items"] }}
{{ data.items()|list|length }} {{ holder.attr }} {{ only.key }} {{ recipient.name }}
{% if tools.next(empty) is undefined %}stopped{% endif %}
{% for item in items %}{{ item.get("k") }}{{ loop.index }}{{ helper.read("x") }} {% endfor %}
"""

CHILD = """\
{% extends "layout/body.EXT" %}
{% block body %}
{% set local = "block-local" %}
{{ helper.read("local") }} {{ data.get("a") }}
{% for item in items %}{% set inner = "loop-local" %}{{ helper.read("inner") }} {% endfor %}
{{ _("Dear %(name)s,", name=name) }}
{% endblock %}
"""


class _Html:
    def __html__(self) -> str:
        return "<u>html</u>"

    def __str__(self) -> str:
        return "<u>text</u>"


class _OnlyItems:
    def __getitem__(self, key: str) -> str:
        return f"<{key}>"


@jinja2.pass_context
def _read(context: jinja2.runtime.Context, name: str) -> str:
    return str(context.get(name, "-"))


def _values() -> dict[str, Any]:
    return {
        "name": NASTY,
        "trusted": Markup("<i>ok</i>"),
        "count": 3,
        "total": 7,
        "nothing": None,
        "amount": Decimal("1.50"),
        "obj": _Html(),
        "data": {"a": "<a&b>", "items": "a key named items"},
        "holder": SimpleNamespace(attr="<attr>"),
        "only": _OnlyItems(),
        "tools": SimpleNamespace(next=next),
        "empty": iter(()),
        "items": [{"k": "<1>"}, {"k": "2&"}],
        "helper": SimpleNamespace(read=_read),
        "x": "<x>",
    }


def _templates(root: Path, name: str, text: str, html: str, subject: str = "Subject\n") -> None:
    layout = root / "layout"
    layout.mkdir(exist_ok=True)
    (layout / "body.txt").write_text("[{% block body %}{% endblock %}]", encoding="utf-8")
    (layout / "body.html").write_text("<p>{% block body %}{% endblock %}</p>", encoding="utf-8")
    folder = root / name
    folder.mkdir()
    (folder / "subject.txt").write_text(subject, encoding="utf-8")
    (folder / "body.txt").write_text(text, encoding="utf-8")
    (folder / "body.html").write_text(html, encoding="utf-8")


def _both(root: Path, name: str, values: dict[str, Any]) -> tuple[Rendered, Rendered]:
    recipient = Recipient("coordinator", NASTY, "ana@example.org", "en")
    compiled = MailRenderer(root).render(name, recipient, values, language="en")
    plain = MailRenderer(root, compile_sentences=False).render(
        name, recipient, values, language="en"
    )
    return compiled, plain


def test_values_of_every_kind_are_written_as_jinja_writes_them(tmp_path: Path) -> None:
    _templates(tmp_path, "kinds", BODY, BODY)
    compiled, plain = _both(tmp_path, "kinds", _values())
    assert compiled == plain
    html = compiled.html.splitlines()
    assert html[0] == f"Dear {NASTY_HTML},"
    assert html[1] == f"Made by <b>{NASTY_HTML}</b>", "a Markup value is not escaped twice"
    assert html[2] == "Number 3 of 7"
    assert html[3] == f"Nested: inner {NASTY_HTML}"
    assert html[4] == f"Kept {NASTY_HTML}|{len('Kept ' + NASTY_HTML)}"
    assert html[5] == f"Percent {NASTY_HTML} %"
    assert html[6:10] == [
        "Digits 3",
        "Safe <i>ok</i>",
        "Nothing: None",
        "Amount 1.50, object <u>html</u>",
    ]
    assert html[10] == f"{NASTY_HTML} <i>ok</i> 3 1.50 <u>html</u> <b>{NASTY_HTML}</b>"
    assert html[11] == "&lt;a&amp;b&gt; default a key named items"
    assert html[12] == f"2 &lt;attr&gt; &lt;key&gt; {NASTY_HTML}"
    assert html[13] == "stopped&lt;1&gt;1&lt;x&gt; 2&amp;2&lt;x&gt; "  # trim_blocks: one line
    text = compiled.text.splitlines()
    assert text[0] == f"Dear {NASTY},"
    assert text[1] == f"Made by <b>{NASTY}</b>"
    assert text[10] == f"{NASTY} <i>ok</i> 3 1.50 <u>text</u> <b>{NASTY}</b>"


def test_blocks_and_loops_give_context_callables_their_variables(tmp_path: Path) -> None:
    _templates(tmp_path, "child", CHILD.replace("EXT", "txt"), CHILD.replace("EXT", "html"))
    compiled, plain = _both(tmp_path, "child", _values())
    assert compiled == plain
    assert "block-local &lt;a&amp;b&gt;" in compiled.html
    assert "loop-local loop-local" in compiled.html
    assert compiled.html.startswith("<p>")
    assert compiled.html.endswith("</p>")
    assert compiled.text.startswith("[")
    assert "block-local <a&b>" in compiled.text


@pytest.mark.parametrize("part", ["body.txt", "body.html"])
def test_printing_none_is_refused_in_each_part(tmp_path: Path, part: str) -> None:
    _templates(tmp_path, "careless", "fine\n", "fine\n")
    (tmp_path / "careless" / part).write_text("a {{ comment }} b\n", encoding="utf-8")
    for renderer in (MailRenderer(tmp_path), MailRenderer(tmp_path, compile_sentences=False)):
        with pytest.raises(TemplateError, match="None") as refused:
            renderer.render(
                "careless", Recipient("coordinator", "", "a@example.org", "en"), {"comment": None}
            )
        assert refused.value.file == f"careless/{part}"
        assert refused.value.line == 1


def test_a_missing_attribute_fails_the_same_way(tmp_path: Path) -> None:
    _templates(tmp_path, "missing", "{{ data.nothing }}\n", "<p>\n{{ holder.nothing }}</p>\n")
    problems = []
    for renderer in (MailRenderer(tmp_path), MailRenderer(tmp_path, compile_sentences=False)):
        with pytest.raises(TemplateError) as caught:
            renderer.render(
                "missing", Recipient("coordinator", "", "a@example.org", "en"), _values()
            )
        problems.append((caught.value.file, caught.value.line, caught.value.problem))
    assert problems[0] == problems[1] == ("missing/body.txt", 1, problems[0][2])
    assert "nothing" in problems[0][2]


def test_a_layout_edited_on_disk_is_read_again(tmp_path: Path) -> None:
    _templates(
        tmp_path, "note", "{% extends 'layout/body.txt' %}{% block body %}x{% endblock %}", "y"
    )
    renderer = MailRenderer(tmp_path)
    recipient = Recipient("coordinator", "", "a@example.org", "en")
    assert renderer.render("note", recipient, {}, language="en").text == "[x]"
    layout = tmp_path / "layout" / "body.txt"
    layout.write_text("({% block body %}{% endblock %})", encoding="utf-8")
    stamp = layout.stat().st_mtime_ns + 5_000_000_000  # a later modification time, surely
    os.utime(layout, ns=(stamp, stamp))
    assert renderer.render("note", recipient, {}, language="en").text == "(x)"
