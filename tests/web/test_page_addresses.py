"""Whatever a person types into a page's address bar gets a page: digits that `int()` refuses
(`²`), numbers no row can have, words where numbers belong. Never a 500, never raw JSON."""

from __future__ import annotations

import pytest

from tests.web.conftest import SignIn


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/requests/99999999999999999999/final-report", 404),
        ("/requests/9223372036854775808/final-report", 404),
        ("/requests/²/final-report", 404),
        ("/requests/1/attachments/²", 404),
        ("/requests/1/attachments/99999999999999999999", 404),
        ("/outbox?page=abc", 400),
    ],
)
def test_a_bad_address_is_an_html_page(sign_in: SignIn, path: str, status: int) -> None:
    browser = sign_in("coordinator")
    answer = browser.get(path)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")
    assert "Traceback" not in answer.text


@pytest.mark.parametrize("year", ["²²²²", "99999", "-1", "abcd"])
def test_a_year_filter_that_is_not_a_year_is_ignored(sign_in: SignIn, year: str) -> None:
    answer = sign_in("viewer").get("/", params={"year": year})
    assert answer.status_code == 200
    assert f'value="{year}"' not in answer.text
