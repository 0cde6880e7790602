"""The interface is complete in Spanish and in French: every string the pages mark for
translation has an entry in each (the catalogue and the fragments the application reads with
it), with the same %(name)s placeholders, and a browser gets the pages in its language."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from starlette.testclient import TestClient

from i18n import read_catalogue

WEB = Path(__file__).resolve().parents[2] / "web"
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


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


@pytest.mark.parametrize("language", ["es", "fr"])
def test_every_interface_string_is_translated(language: str) -> None:
    catalogue = read_catalogue(language)
    missing = sorted(
        s
        for s in interface_strings()
        if not (entry := catalogue.get(s)) or not entry.string or entry.fuzzy
    )
    assert not missing, f"untranslated in {language} (translate them): {missing}"


@pytest.mark.parametrize("language", ["es", "fr"])
def test_translations_keep_the_placeholders(language: str) -> None:
    catalogue = read_catalogue(language)
    wrong = [
        (s, entry.string)
        for s in interface_strings()
        if (entry := catalogue.get(s)) is not None
        and isinstance(entry.string, str)
        and entry.string
        and Counter(PLACEHOLDER.findall(s)) != Counter(PLACEHOLDER.findall(entry.string))
    ]
    assert not wrong, f"placeholders differ in {language}: {wrong}"


def test_a_spanish_browser_gets_the_sign_in_page_in_spanish(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "es-MX,es;q=0.9"})
    assert '<html lang="es"' in page.text
    assert "Iniciar sesión" in page.text


def test_an_english_browser_gets_it_in_english(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en"' in page.text
    assert "Sign in" in page.text


def test_a_french_browser_gets_it_in_french(client: TestClient) -> None:
    page = client.get("/login", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr"' in page.text
    assert "Se connecter" in page.text
    assert "Nom d'utilisateur" in page.text or "Nom d&#39;utilisateur" in page.text
