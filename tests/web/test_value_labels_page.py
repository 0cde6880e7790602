"""The values of a request's enum fields are shown in the reader's language, by the labels the
workflow gives them, never as codes or as English words made from codes: in the data shown, in
the checkboxes and selects of the forms. Real databases, real sign-in."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

from engine.views import RequestView
from tests.web.conftest import SignIn, csrf_of

# what the codes look like once their underscores are removed (the old fallback)
CODE_WORDS = ("New functions", "Programme or reform", "Security reliability")


def french_page(sign_in: SignIn, page: str) -> str:
    """The page as a coordinator who chose French on it sees it."""
    browser = sign_in("coordinator", "amelie")
    token = csrf_of(browser.get(page).text)
    browser.post("/language", data={"language": "fr", "csrf_token": token, "next": page})
    return browser.get(page).text


def test_a_french_reader_sees_the_internship_admission_criteria_in_french(
    make_request: Callable[..., RequestView], sign_in: SignIn
) -> None:
    """Brochure § 2.2, "CRITERIA to be considered to participate in an INTERNSHIP": "c.
    Developing new mechanisms or instruments to streamline and provide greater assurance of
    safety and reliability"."""
    view = make_request("internship", "needs_assessment")
    assert view.data["admission_criteria"] == ["security_reliability"]
    html = french_page(sign_in, f"/requests/{view.id}")
    assert 'lang="fr"' in html
    data = re.search(r'<dd>\s*<ul class="values">(.*?)</ul>', html, re.S)
    assert data is not None, "the admission criteria are not shown as a list of values"
    shown = unescape(re.sub(r"<[^>]+>", " ", data.group(1)))
    assert "c) L'OGE met au point de nouveaux mécanismes de sécurité et de fiabilité" in shown
    for words in CODE_WORDS:
        assert words not in html
    assert ">security_reliability<" not in html


def test_the_checkboxes_of_a_workshop_timing_are_labelled_in_french(
    make_request: Callable[..., RequestView], sign_in: SignIn
) -> None:
    """Brochure § 2.1: the workshops "are considered to be really useful in the following
    scenarios: Before elctions are held; Previous to a political-electoral reform; When
    electoral authorities are replaced or changed"."""
    view = make_request("international_workshop", "intake")
    html = french_page(sign_in, f"/requests/{view.id}")
    assert 'name="timing_scenario" value="before_elections"' in html  # still the code, sent
    for label in (
        "Avant les élections",
        "Avant une réforme politico-électorale",
        "Lors du renouvellement des autorités électorales",
    ):
        assert label in html
    for words in ("Before elections", "Before reform", "Authorities replaced"):
        assert words not in html
