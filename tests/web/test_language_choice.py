"""A language choice that sticks: before signing in, the browser's `Accept-Language` (q-values
respected) or the header picker; once signed in, the user's choice, stored on the user and used
on every page, in every browser, until they change it (/account or the header picker). A user
who never chose stays in the language of the sign-in page. Real databases, real sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from engine.accounts import Accounts
from engine.views import RequestView
from i18n import read_catalogue
from tests.web.conftest import csrf_of

Browser = Callable[[str], TestClient]
PASSWORD = "lucia-password-long"
# one page of each kind a coordinator reads
PAGES = ("/", "/requests/new", "/results", "/outbox", "/account")


@pytest.fixture
def lucia(accounts: Accounts) -> int:
    """A coordinator who has never chosen a language."""
    return accounts.add_user("lucia", "coordinator", PASSWORD).id


@pytest.fixture
def browser(app: FastAPI) -> Browser:
    """`browser("en")`: a browser of its own (cookies) that asks for these languages."""

    def make(accept_language: str) -> TestClient:
        client = TestClient(app)
        client.headers["Accept-Language"] = accept_language
        return client

    return make


def sign_in(client: TestClient, username: str = "lucia", password: str = PASSWORD) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def language_of(html: str) -> str:
    found = re.search(r'<html lang="([a-z]+)"', html)
    assert found, "the page has no language"
    return found.group(1)


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def languages_of_pages(client: TestClient, paths: tuple[str, ...]) -> dict[str, str]:
    found = {}
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200, (path, page.status_code)
        found[path] = language_of(page.text)
    return found


def choose_on_account_page(client: TestClient, language: str) -> str:
    page = client.get("/account")
    answer = client.post(
        "/account/language",
        data={"language": language, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/account"
    return client.get("/account").text


def pick_in_header(client: TestClient, language: str, on: str = "/") -> str:
    page = client.get(on)
    answer = client.post(
        "/language",
        data={"language": language, "next": on, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == on
    return client.get(on).text


# ---------------------------------------------------------------- before and at sign-in
def test_an_english_browser_signs_in_and_stays_in_english_on_every_page(
    browser: Browser, lucia: int, make_request: Callable[..., RequestView]
) -> None:
    request = make_request("international_workshop")
    client = browser("en-GB,en;q=0.9")
    assert language_of(client.get("/login").text) == "en"
    sign_in(client)
    pages = (*PAGES, f"/requests/{request.id}")
    assert set(languages_of_pages(client, pages).values()) == {"en"}
    assert "Dashboard" in client.get("/").text


def test_q_values_choose_the_language_not_the_order(browser: Browser, lucia: int) -> None:
    client = browser("es;q=0.1, en;q=0.9")
    assert language_of(client.get("/login").text) == "en"
    sign_in(client)
    assert set(languages_of_pages(client, PAGES).values()) == {"en"}


def test_a_user_who_never_chose_follows_each_browser(browser: Browser, lucia: int) -> None:
    spanish, french = browser("es-MX,es;q=0.9"), browser("fr-FR,fr;q=0.9,en;q=0.5")
    sign_in(spanish)
    sign_in(french)
    assert language_of(spanish.get("/").text) == "es"
    assert language_of(french.get("/").text) == "fr"


def test_a_language_picked_on_the_sign_in_page_is_kept_after_signing_in(
    browser: Browser, lucia: int
) -> None:
    client = browser("en")
    assert language_of(pick_in_header(client, "fr", on="/login")) == "fr"
    sign_in(client)
    assert set(languages_of_pages(client, PAGES).values()) == {"fr"}
    # a choice of this browser only: another English browser still gets English
    other = browser("en")
    sign_in(other)
    assert language_of(other.get("/").text) == "en"


def test_an_anonymous_pick_changes_only_this_browser(browser: Browser) -> None:
    mine, theirs = browser("en"), browser("en")
    assert language_of(pick_in_header(mine, "es", on="/login")) == "es"
    assert language_of(mine.get("/login").text) == "es"
    assert language_of(theirs.get("/login").text) == "en"


# ---------------------------------------------------------------- the user's own choice
def test_french_chosen_on_the_account_page_is_used_everywhere_and_in_another_browser(
    browser: Browser, lucia: int, accounts: Accounts, make_request: Callable[..., RequestView]
) -> None:
    request = make_request("international_workshop")
    first = browser("en")
    sign_in(first)
    page = choose_on_account_page(first, "fr")
    assert language_of(page) == "fr"
    assert "Votre langue a été enregistrée" in visible_text(page)
    assert accounts.user_by_id(lucia).language == "fr"  # type: ignore[union-attr]

    # a new sign-in from another browser that asks for Spanish: French on every page
    second = browser("es-MX,es;q=0.9")
    sign_in(second)
    pages = (*PAGES, f"/requests/{request.id}")
    assert set(languages_of_pages(second, pages).values()) == {"fr"}
    # and in the first browser after signing out and in again
    first.post("/logout", data={"csrf_token": csrf_of(first.get("/").text)})
    sign_in(first)
    assert language_of(first.get("/outbox").text) == "fr"


def test_the_account_page_shows_the_choice_and_the_languages_by_their_own_names(
    browser: Browser, lucia: int
) -> None:
    client = browser("en")
    sign_in(client)
    page = client.get("/account").text
    choices = re.search(r'<select id="account-language".*?</select>', page, re.S)
    assert choices, "the account page has no language choice"
    options = [visible_text(o) for o in re.findall(r"<option.*?</option>", choices.group(0))]
    assert options == ["My browser's language (now: English)", "Español", "English", "Français"]
    assert re.search(r'<option value=""\s*selected', choices.group(0))  # nothing chosen yet
    page = choose_on_account_page(client, "es")
    assert re.search(r'<option value="es" lang="es"\s*selected', page)
    assert "Idioma de las páginas" in visible_text(page)


def test_going_back_to_the_browser_language(browser: Browser, lucia: int) -> None:
    client = browser("en")
    sign_in(client)
    choose_on_account_page(client, "fr")
    page = choose_on_account_page(client, "")
    assert language_of(page) == "en"
    assert "The pages now follow the language your browser asks for." in visible_text(page)
    assert language_of(browser("es").get("/login").text) == "es"


def test_the_header_picker_stores_a_signed_in_users_choice(
    browser: Browser, lucia: int, accounts: Accounts
) -> None:
    client = browser("es")
    sign_in(client)
    page = pick_in_header(client, "fr", on="/results?first=2024")
    assert language_of(page) == "fr"
    assert accounts.user_by_id(lucia).language == "fr"  # type: ignore[union-attr]
    other = browser("en")
    sign_in(other)
    assert set(languages_of_pages(other, PAGES).values()) == {"fr"}


def test_the_header_picker_needs_the_csrf_token(
    browser: Browser, lucia: int, accounts: Accounts
) -> None:
    client = browser("en")
    sign_in(client)
    answer = client.post("/language", data={"language": "fr", "next": "/"})
    assert answer.status_code == 403
    assert accounts.user_by_id(lucia).language is None  # type: ignore[union-attr]
    assert language_of(client.get("/").text) == "en"


def test_an_unknown_language_is_refused_with_a_message(
    browser: Browser, lucia: int, accounts: Accounts
) -> None:
    client = browser("fr")
    sign_in(client)
    page = pick_in_header(client, "xx")
    assert "Cette langue n'est pas disponible." in visible_text(page)
    assert accounts.user_by_id(lucia).language is None  # type: ignore[union-attr]


def test_signing_out_keeps_the_sign_in_page_in_the_chosen_language(
    browser: Browser, lucia: int
) -> None:
    client = browser("en")
    sign_in(client)
    choose_on_account_page(client, "fr")
    answer = client.post("/logout", data={"csrf_token": csrf_of(client.get("/").text)})
    assert answer.url.path == "/login"
    assert language_of(answer.text) == "fr"


# ---------------------------------------------------------------- what French pages say
def test_french_pages_have_no_english_sentence_left(
    browser: Browser, lucia: int, make_request: Callable[..., RequestView]
) -> None:
    request = make_request("international_workshop")
    client = browser("fr")
    sign_in(client)
    # the English sentences the catalogue translates (several words, no parameters)
    english = [
        m.id
        for m in read_catalogue("es")
        if isinstance(m.id, str) and " " in m.id and "%(" not in m.id and len(m.id) >= 12
    ]
    headings = {
        "/": "Tableau de bord",
        "/requests/new": "Nouvelle demande",
        "/results": "Résultats du programme",
        "/outbox": "Boîte d'envoi",
        "/account": "Votre compte",
    }
    for path in (*PAGES, f"/requests/{request.id}"):
        text = visible_text(client.get(path).text)
        if path in headings:
            assert headings[path] in text, path
        left = [sentence for sentence in english if sentence in text]
        assert not left, f"English on {path}: {left}"


def test_admins_see_each_users_language_as_a_name(
    browser: Browser, lucia: int, accounts: Accounts
) -> None:
    accounts.add_user("amara", "viewer", "amara-password-long", language="fr")
    accounts.add_user("root", "admin", "root-password-long", language="en")
    client = browser("en")
    sign_in(client, "root", "root-password-long")
    listing = visible_text(client.get("/admin/users").text)
    assert "amara Viewer French" in listing
    assert "lucia Coordinator Not chosen (follows the browser)" in listing
    pick_in_header(client, "es", on="/admin/users")
    listing = visible_text(client.get("/admin/users").text)
    assert "amara Lector Francés" in listing
    page = visible_text(client.get(f"/admin/users/{lucia}").text)
    assert "Idioma Sin elegir (sigue al navegador)" in page
