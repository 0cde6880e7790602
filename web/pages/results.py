"""The programme results page (issue 6) for every signed-in role: the tables of
`results.report.build_report`, the world map and the stacked bars inline, and the same
tables (and the requests) as CSV or XLSX downloads, with the same year filters.

The SVG is our own drawing (results/charts.py escapes every text it embeds); before it is
marked safe to inline it is parsed and checked to hold only drawing elements — no script,
no event handler, no link, no foreign content — so a mistake there cannot become markup."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import Response
from markupsafe import Markup

from engine.bootstrap import Runtime
from i18n.vocabulary import humanise
from results import countries
from results.charts import workshops_chart_svg, workshops_map_svg
from results.export import Labels, Table, csv_bytes, requests_table, results_tables, xlsx_bytes
from results.report import ResultsReport, build_report, shown_continents
from web.pages.deps import PagesDep, PageUser, RuntimeDep
from web.templating import gettext_for, request_language

router = APIRouter(include_in_schema=False)

FIRST_YEAR, LAST_YEAR = 1990, 2100
SVG_ELEMENTS = frozenset({"svg", "g", "path", "circle", "rect", "line", "text", "title", "desc"})
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FromYear = Annotated[str | None, Query(alias="from", max_length=10)]
ToYear = Annotated[str | None, Query(alias="to", max_length=10)]
ShortText = Annotated[str | None, Query(max_length=80)]


def safe_svg(svg: str) -> Markup:
    """`svg` marked safe to inline, once checked to be a plain drawing."""
    root = ET.fromstring(svg)
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag not in SVG_ELEMENTS:
            raise ValueError(f"unexpected <{tag}> in a chart")
        for name in element.attrib:
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or local in ("href", "style", "src"):
                raise ValueError(f"unexpected attribute {local!r} in a chart")
    return Markup(svg)  # checked above; every text in it is escaped by charts.py


def parse_year(text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not re.fullmatch(r"[0-9]{4}", value) or not FIRST_YEAR <= int(value) <= LAST_YEAR:
        raise ValueError(value)
    return int(value)


def years(
    year_from: str | None, year_to: str | None, gettext: Callable[[str], str] = str
) -> tuple[int | None, int | None]:
    """The years asked for; 400 when one is not a year or they are the wrong way round."""
    try:
        first, last = parse_year(year_from), parse_year(year_to)
    except ValueError:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            gettext("A year is a number between %(first)s and %(last)s.")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
        ) from None
    if first is not None and last is not None and first > last:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            gettext("The first year (%(first)s) is after the last (%(last)s).")
            % {"first": first, "last": last},
        )
    return first, last


def _report(runtime: Runtime, first: int | None, last: int | None) -> ResultsReport:
    return build_report(
        runtime.db,
        year_from=first,
        year_to=last,
        today=runtime.engine.clock().date(),
        catalogues=runtime.catalogues,
    )


def _label(value: Any, language: str) -> str | None:
    return value.label.get(language) if value is not None else None


@router.get("/results")
def results_page(
    request: Request,
    user: PageUser,
    pages: PagesDep,
    runtime: RuntimeDep,
    year_from: FromYear = None,
    year_to: ToYear = None,
) -> Response:
    language = request_language(request)
    try:
        first, last = years(year_from, year_to, gettext_for(request))
    except HTTPException as exc:
        return pages.render(
            request,
            "results.html",
            {"error": exc.detail, "year_from": year_from or "", "year_to": year_to or ""},
            status_code=exc.status_code,
        )
    report = _report(runtime, first, last)
    data = report.to_dict()
    workshops = data["workshops"]
    themes = runtime.catalogues.themes
    programme_titles: dict[str, str] = {}
    state_labels: dict[tuple[str, str], str] = {}
    for programme, states in data["requests"]["by_programme"].items():
        try:
            definition = runtime.registry.current(programme).definition
        except Exception:  # a programme no longer defined keeps its stored name
            programme_titles[programme] = humanise(programme)
            continue
        programme_titles[programme] = definition.title.get(language)
        for state in states:
            spec = definition.states.get(state)
            state_labels[(programme, state)] = spec.label.get(language) if spec else humanise(state)
    query = "&".join(
        f"{name}={value}" for name, value in (("from", first), ("to", last)) if value is not None
    )
    for activity in [*data["courses"], *data["seminars"]]:  # country names in the page's language
        activity["country_names"] = [countries.name(c, language) for c in activity["countries"]]
    country_table = results_tables(report)["countries"]
    country_names = {row[0]: countries.name(str(row[0]), language) for row in country_table.rows}
    return pages.render(
        request,
        "results.html",
        {
            "error": None,
            "year_from": "" if first is None else str(first),
            "year_to": "" if last is None else str(last),
            "query": query,
            "data": data,
            "workshops": workshops,
            "continents": shown_continents(workshops),
            "countries": country_table,
            "country_names": country_names,
            "theme_labels": {t: _label(themes.get(t), language) or t for t in themes},
            "programme_titles": programme_titles,
            "state_labels": state_labels,
            "map_svg": safe_svg(workshops_map_svg(report, language)),
            "chart_svg": safe_svg(workshops_chart_svg(report, language)),
        },
    )


# ---------------------------------------------------------------- downloads
# In the page's language (headers, sheet names, labels; the codes in columns of their own),
# times in the site's time zone; CSV as UTF-8 with a byte-order mark (results/export.py).
def _name(stem: str, first: int | None, last: int | None, ext: str) -> str:
    span = "".join(f"-{y}" if y is not None else "" for y in (first, last))
    return f"{stem}{span}.{ext}"


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _labels(request: Request, runtime: Runtime) -> Labels:
    return Labels.of(runtime, request_language(request))


@router.get("/results.csv")
def results_csv(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    year_from: FromYear = None,
    year_to: ToYear = None,
    table: ShortText = "workshops",
) -> Response:
    gettext = gettext_for(request)
    first, last = years(year_from, year_to, gettext)
    tables = results_tables(_report(runtime, first, last), _labels(request, runtime))
    name = table or "workshops"
    if name not in tables:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            gettext("There is no table “%(name)s” (the tables: %(tables)s).")
            % {"name": name, "tables": ", ".join(tables)},
        )
    body = csv_bytes(tables[name])
    return _download(body, CSV_TYPE, _name(f"cicie-results-{name}", first, last, "csv"))


@router.get("/results.xlsx")
def results_xlsx(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    year_from: FromYear = None,
    year_to: ToYear = None,
) -> Response:
    first, last = years(year_from, year_to, gettext_for(request))
    body = xlsx_bytes(results_tables(_report(runtime, first, last), _labels(request, runtime)))
    return _download(body, XLSX_TYPE, _name("cicie-results", first, last, "xlsx"))


def _requests(
    request: Request,
    runtime: Runtime,
    programme: str | None,
    state: str | None,
    emb: str | None,
    first: int | None,
    last: int | None,
) -> Table:
    return requests_table(
        runtime.db,
        programme=programme or None,
        state=state or None,
        emb=emb or None,
        year_from=first,
        year_to=last,
        labels=_labels(request, runtime),
    )


@router.get("/requests.csv")
def requests_csv(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    year_from: FromYear = None,
    year_to: ToYear = None,
    programme: ShortText = None,
    state: ShortText = None,
    emb: ShortText = None,
) -> Response:
    first, last = years(year_from, year_to, gettext_for(request))
    table = _requests(request, runtime, programme, state, emb, first, last)
    return _download(csv_bytes(table), CSV_TYPE, _name("cicie-requests", first, last, "csv"))


@router.get("/requests.xlsx")
def requests_xlsx(
    request: Request,
    user: PageUser,
    runtime: RuntimeDep,
    year_from: FromYear = None,
    year_to: ToYear = None,
    programme: ShortText = None,
    state: ShortText = None,
    emb: ShortText = None,
) -> Response:
    first, last = years(year_from, year_to, gettext_for(request))
    table = _requests(request, runtime, programme, state, emb, first, last)
    body = xlsx_bytes({"requests": table})
    return _download(body, XLSX_TYPE, _name("cicie-requests", first, last, "xlsx"))
