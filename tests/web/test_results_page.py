"""The results page (issue 6) over the brochure's imported history: the tables, the map and
the chart inline, the year filters, and the CSV / XLSX downloads with the same filters."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import load_workbook
from starlette.testclient import TestClient

from engine.accounts import Accounts
from engine.bootstrap import Runtime
from engine.views import RequestView
from results.history_format import read_history
from results.importer import brochure_path, import_history
from tests.web.conftest import csrf_of
from web.pages.results import safe_svg

MakeRequest = Callable[..., RequestView]


@pytest.fixture
def brochure(runtime: Runtime) -> Runtime:
    source = read_history(brochure_path(), theme_ids=runtime.catalogues.themes)
    import_history(runtime.db, source, runtime.engine.clock())
    return runtime


@pytest.fixture
def viewer(client: TestClient, accounts: Accounts) -> TestClient:
    """Signed in with the least role: the results are for everyone who signs in."""
    client.headers["Accept-Language"] = "en"
    accounts.add_user("vera", "viewer", "vera-password-long", language="en")
    token = csrf_of(client.get("/login").text)
    client.post(
        "/login",
        data={"username": "vera", "password": "vera-password-long", "csrf_token": token},
    )
    return client


def test_the_results_need_a_signed_in_user(client: TestClient) -> None:
    for path in ("/results", "/results.csv", "/results.xlsx", "/requests.csv", "/requests.xlsx"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_the_page_shows_the_brochure_tables_the_map_and_the_chart(
    viewer: TestClient, brochure: Runtime
) -> None:
    response = viewer.get("/results")
    assert response.status_code == 200
    html = response.text
    assert '<td class="num" id="workshops-total">61</td>' in html
    # the brochure says 40 countries; its table names 39, and the page says both
    assert "61 workshops for 39 countries." in html
    assert "<td>40</td><td>39</td>" in html
    for continent, total in {"Africa": 17, "America": 25, "Asia": 10, "Europe": 9}.items():
        assert f">{continent}<" in html
        assert f'data-continent="{continent}"' in html
        assert f"{continent} ({total})" in html  # the chart's legend
    assert html.count('class="country shaded"') == 39  # every country of the table, on the map
    assert re.search(r'id="country-HT"[^>]*data-count="[1-9]', html)  # e.g. Haiti
    assert html.count("<svg") == 2
    assert "<script" not in html
    assert "Specialization courses" in html
    assert "Seminars" in html
    assert "Stated figures that disagree" in html
    assert 'href="/results.xlsx"' in html
    assert 'href="/requests.csv"' in html


def test_the_year_filters_narrow_the_tables_and_the_links(
    viewer: TestClient, brochure: Runtime
) -> None:
    html = viewer.get("/results?from=2010&to=2012").text
    assert '<td class="num" id="workshops-total">26</td>' in html  # 6 + 10 + 10
    assert 'href="/results.csv?from=2010&amp;to=2012"' in html
    assert 'value="2010"' in html
    assert 'value="2012"' in html


@pytest.mark.parametrize("query", ["from=abc", "from=2015&to=2010", "to=99999"])
def test_years_that_are_not_years_are_a_400_page(
    viewer: TestClient, brochure: Runtime, query: str
) -> None:
    response = viewer.get(f"/results?{query}")
    assert response.status_code == 400
    assert "cannot be shown" in response.text
    assert viewer.get(f"/results.csv?{query}").status_code == 400


def csv_rows(content: bytes) -> list[list[str]]:
    """The rows of a CSV download, read as Excel reads it (UTF-8 with its byte-order mark)."""
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_csv_download_has_the_filters(viewer: TestClient, brochure: Runtime) -> None:
    response = viewer.get("/results.csv?from=2010&to=2012")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="cicie-results-workshops-2010-2012.csv"'
    )
    rows = csv_rows(response.content)
    assert rows[0][0] == "Year"
    assert rows[0][-1] == "Total"
    assert [r[0] for r in rows[1:]] == ["2010", "2011", "2012", "Total"]
    assert rows[-1][-1] == "26"
    countries = viewer.get("/results.csv?table=countries")
    assert countries.status_code == 200
    assert csv_rows(countries.content)[0] == [
        "Country code",
        "Country",
        "Continent",
        "Workshops",
        "Activities",
    ]
    assert viewer.get("/results.csv?table=nope").status_code == 404


def test_the_xlsx_download_holds_every_table(viewer: TestClient, brochure: Runtime) -> None:
    response = viewer.get("/results.xlsx?from=2004&to=2015")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    book = load_workbook(io.BytesIO(response.content))
    assert {"Workshops", "Countries reached", "Specialization courses", "Seminars"} <= set(
        book.sheetnames
    )
    sheet = book["Workshops"]
    last = [c.value for c in list(sheet.iter_rows())[-1]]
    assert last[0] == "Total"
    assert last[-1] == 61


def test_the_downloads_speak_the_language_of_the_page(
    client: TestClient, accounts: Accounts, brochure: Runtime, make_request: MakeRequest
) -> None:
    make_request("international_workshop", "intake")
    accounts.add_user("felix", "viewer", "felix-password-long", language="fr")
    token = csrf_of(client.get("/login").text)
    client.post(
        "/login",
        data={"username": "felix", "password": "felix-password-long", "csrf_token": token},
    )
    rows = csv_rows(client.get("/requests.csv").content)
    header, row = rows[0], dict(zip(rows[0], rows[1], strict=True))
    assert {"Programme", "Code du programme"} <= set(header)
    title = brochure.registry.definitions["international_workshop"].title.get("fr")
    assert (row["Code du programme"], row["Programme"]) == ("international_workshop", title)
    assert title != "International Workshop"
    assert (row["Code du pays"], row["Pays"], row["Continent"]) == ("HN", "Honduras", "Amérique")
    assert row["Créée (heure de Mexico)"] == "2026-01-12 09:00"  # 15:00 UTC, in Mexico City
    workshops = csv_rows(client.get("/results.csv?from=2004&to=2015").content)
    assert workshops[0] == ["Année", "Afrique", "Amérique", "Asie", "Europe", "Total"]
    book = load_workbook(io.BytesIO(client.get("/results.xlsx").content))
    assert {"Ateliers", "Pays touchés", "Séminaires"} <= set(book.sheetnames)


def test_the_requests_downloads_filter_and_defuse_formulas(
    viewer: TestClient, runtime: Runtime, make_request: MakeRequest, coordinator: object
) -> None:
    make_request("internship", "logistics")
    make_request("seminar", "intake")
    runtime.engine.create(
        "international_workshop",
        emb_code=None,
        title='=HYPERLINK("http://evil.example","x")',
        actor=coordinator,  # type: ignore[arg-type]
    )
    rows = csv_rows(viewer.get("/requests.csv?programme=internship").content)
    assert [r[1] for r in rows[1:]] == ["internship"]
    every = viewer.get("/requests.csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in every  # CSV: the usual apostrophe, a CSV cell has no type
    assert "\n=HYPERLINK" not in every
    response = viewer.get("/requests.xlsx?programme=international_workshop")
    assert response.headers["content-disposition"] == 'attachment; filename="cicie-requests.xlsx"'
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["Requests"]
    header = [c.value for c in sheet[1]]
    title = sheet.cell(2, header.index("Title") + 1)
    # XLSX: a text cell, shown as typed (no apostrophe), never a formula
    assert (title.value, title.data_type) == ('=HYPERLINK("http://evil.example","x")', "s")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert not re.search(r"<f[ >/]", xml)


def test_only_plain_drawings_are_inlined() -> None:
    assert str(safe_svg('<svg xmlns="http://www.w3.org/2000/svg"><title>a &lt; b</title></svg>'))
    for bad in (
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
        '<g x:href="javascript:alert(1)"/></svg>',
    ):
        with pytest.raises(ValueError, match="unexpected"):
            safe_svg(bad)


def test_the_page_and_its_charts_speak_the_readers_language(
    client: TestClient, accounts: Accounts, brochure: Runtime
) -> None:
    accounts.add_user("rosa", "viewer", "rosa-password-long", language="es")
    token = csrf_of(client.get("/login").text)
    client.post(
        "/login",
        data={"username": "rosa", "password": "rosa-password-long", "csrf_token": token},
    )
    html = client.get("/results").text
    # the chart's title, legend and tooltips, the map's legend: Spanish
    assert "Talleres internacionales por año y continente (61)" in html
    assert "África (17)" in html
    assert "América (25)" in html
    assert "Talleres internacionales sobre administración y justicia electoral" in html
    assert "10 o más" in html
    assert re.search(r"<title>Perú: \d+ talleres</title>", html)  # a country's tooltip
    # continents and regions as words, never their codes
    assert '<th scope="col" class="num">Europa</th>' in html
    assert "América Latina" in html
    for code in ("latin_america", "inter_regional", "asia_pacific", "arab_states"):
        assert f">{code}<" not in html
