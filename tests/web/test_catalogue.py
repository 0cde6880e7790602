"""The interface is complete in Spanish: every string the pages mark for translation has a
Spanish entry, and a Spanish-speaking browser gets Spanish pages."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from starlette.testclient import TestClient

WEB = Path(__file__).resolve().parents[2] / "web"
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}


def interface_strings() -> set[str]:
    found = extract_from_dir(
        WEB,
        method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
        options_map={"templates/**.html": JINJA_OPTIONS},
    )
    strings = set()
    for _file, _line, message, _comments, _context in found:
        strings.add(message if isinstance(message, str) else message[0])
    return strings


def test_every_interface_string_has_a_spanish_translation() -> None:
    with (WEB.parent / "i18n" / "locale" / "es" / "LC_MESSAGES" / "messages.po").open("rb") as fp:
        catalogue = read_po(fp, locale="es")
    missing = sorted(
        s
        for s in interface_strings()
        if not (entry := catalogue.get(s)) or not entry.string or entry.fuzzy
    )
    assert not missing, f"untranslated (run `make messages`, then translate): {missing}"


def test_a_spanish_browser_gets_the_sign_in_page_in_spanish(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="es">' in page.text
    assert "Iniciar sesión" in page.text


def test_an_english_browser_gets_it_in_english(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text
