"""A workflow as an inline SVG drawn on the server: no script, no external renderer.

Layout: the main path (from the initial state, following each state's first forward
transition in file order) is a column on the left; every other state (declined, withdrawn, on
hold, report overdue…) sits in a column on the right, level with the states it is reached
from. Consecutive main-path steps are straight arrows labelled with the trigger; other
transitions are curves, dashed when they come from the generic `active` keyword (withdraw, put
on hold). The current state carries the `current` class. Every piece of text goes through
`xml.sax.saxutils.escape` (labels come from workflow files and must never become markup).

`text_alternative` gives the same information as sentences for screen readers and print.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from engine.diagram import edges
from workflows.definition import PREVIOUS, WorkflowDefinition

BOX_W = 230
BOX_H = 40
GAP = 34
MAIN_X = 10
SIDE_X = 400
TOP = 10
MAX_CHARS = 30


@dataclass(frozen=True)
class Layout:
    main: list[str]
    side: list[str]
    pos: dict[str, tuple[int, int]]  # state → (x, y) of the box's top-left corner
    width: int
    height: int


def main_path(definition: WorkflowDefinition) -> list[str]:
    hold = definition.hold_state()
    path = [definition.initial]
    while True:
        here = path[-1]
        if definition.states[here].final:
            break
        step = next(
            (
                t.dest
                for t in definition.transitions
                if here in t.sources
                and here not in t.generic_sources
                and t.dest not in (PREVIOUS, hold)
                and t.dest not in path
                and "system" not in t.roles
            ),
            None,
        )
        if step is None:
            break
        path.append(step)
    return path


def layout(definition: WorkflowDefinition) -> Layout:
    main = main_path(definition)
    pos = {name: (MAIN_X, TOP + i * (BOX_H + GAP)) for i, name in enumerate(main)}
    side = [name for name in definition.states if name not in pos]
    sources: dict[str, list[int]] = {name: [] for name in side}
    for src, dest, _trigger in edges(definition):
        if dest in sources and src in pos:
            sources[dest].append(pos[src][1])
    wanted = {
        name: (
            sum(sources[name]) / len(sources[name]) if sources[name] else TOP + i * (BOX_H + GAP)
        )
        for i, name in enumerate(side)
    }
    y = TOP
    for name in sorted(side, key=lambda n: (wanted[n], side.index(n))):
        y = max(y, int(wanted[name]))
        pos[name] = (SIDE_X, y)
        y += BOX_H + GAP
    height = max(p[1] for p in pos.values()) + BOX_H + TOP
    return Layout(main, side, pos, SIDE_X + BOX_W + 50, height)  # room for loops on the right


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"


def render(
    definition: WorkflowDefinition,
    current: str | None,
    language: str,
    *,
    title: str = "",
    held_from: str | None = None,
) -> str:
    lay = layout(definition)
    generic = {(src, t.trigger) for t in definition.transitions for src in t.generic_sources}
    labels = {t.trigger: t.label.get(language) for t in definition.transitions}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="workflow-diagram" role="img" '
        f'aria-labelledby="diagram-title" viewBox="0 0 {lay.width} {lay.height}" '
        f'width="{lay.width}" height="{lay.height}">',
        f'<title id="diagram-title">{escape(title or definition.title.get(language))}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'class="arrow-head"/></marker></defs>',
    ]
    consecutive = set(zip(lay.main, lay.main[1:], strict=False))
    drawn_labels: set[tuple[str, str]] = set()
    for n, (src, dest, trigger) in enumerate(edges(definition)):
        (sx, sy), (dx, dy) = lay.pos[src], lay.pos[dest]
        classes = ["edge"]
        if (src, trigger) in generic:
            classes.append("edge-generic")
        tip = f"{labels.get(trigger, trigger)}"
        if (src, dest) in consecutive and (src, dest) not in drawn_labels:
            drawn_labels.add((src, dest))
            x = sx + BOX_W // 2
            d = f"M{x},{sy + BOX_H} L{x},{dy - 2}"
            out.append(
                f'<g class="{" ".join(classes)}"><title>{escape(tip)}</title>'
                f'<path d="{d}" marker-end="url(#arrow)"/>'
                f'<text x="{x + 8}" y="{sy + BOX_H + GAP // 2 + 4}" class="edge-label">'
                f"{escape(_short(tip))}</text></g>"
            )
            continue
        if sx == dx:  # both in one column: a loop out to the left (main) or right (side)
            side = -1 if sx == MAIN_X else 1
            x0 = sx if side < 0 else sx + BOX_W
            bulge = x0 + side * (14 + (n % 5) * 6)
            d = (
                f"M{x0},{sy + BOX_H // 2} C{bulge},{sy + BOX_H // 2} {bulge},{dy + BOX_H // 2} "
                f"{x0},{dy + BOX_H // 2}"
            )
        else:
            going_right = sx < dx
            x0 = sx + BOX_W if going_right else sx
            x1 = dx if going_right else dx + BOX_W
            y0 = sy + BOX_H // 2 + (n % 3 - 1) * 6
            y1 = dy + BOX_H // 2 + (n % 3 - 1) * 6
            mid = (x0 + x1) // 2
            d = f"M{x0},{y0} C{mid},{y0} {mid},{y1} {x1 + (-2 if going_right else 2)},{y1}"
        out.append(
            f'<g class="{" ".join(classes)}"><title>{escape(tip)}</title>'
            f'<path d="{d}" marker-end="url(#arrow)"/></g>'
        )
    for name, state in definition.states.items():
        x, y = lay.pos[name]
        classes = ["state"]
        if name == current:
            classes.append("current")
        if name == held_from:
            classes.append("held-from")
        if state.final:
            classes.append("final")
        if state.hold:
            classes.append("hold")
        label = state.label.get(language)
        out.append(
            f'<g class="{" ".join(classes)}" data-state={quoteattr(name)}>'
            f"<title>{escape(label)}</title>"
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" ry="6"/>'
            f'<text x="{x + BOX_W // 2}" y="{y + BOX_H // 2 + 5}" text-anchor="middle">'
            f"{escape(_short(label))}</text></g>"
        )
    out.append("</svg>")
    return "".join(out)


def text_alternative(
    definition: WorkflowDefinition, language: str
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """Each state with the moves out of it: [(state, state label, [(trigger label, dest
    label)])], in workflow order."""
    states = definition.states
    labels = {t.trigger: t.label.get(language) for t in definition.transitions}
    moves: dict[str, list[tuple[str, str]]] = {name: [] for name in states}
    for src, dest, trigger in edges(definition):
        moves[src].append((labels.get(trigger, trigger), states[dest].label.get(language)))
    return [(name, s.label.get(language), moves[name]) for name, s in states.items()]
