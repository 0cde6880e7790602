"""A workflow definition as Mermaid `stateDiagram-v2` text, written by hand from the definition.

The output is deterministic (states in file order, edges in transition order) so it can be
compared, committed and diffed. Every transition is drawn as its own edge labelled with its
trigger; `dest: previous` is drawn as one edge from the hold state back to each state a request
can be put on hold from.
"""

from __future__ import annotations

from workflows.definition import PREVIOUS, WorkflowDefinition

CURRENT_STYLE = "fill:#fde68a,stroke:#b45309,stroke-width:3px,font-weight:bold"


def _quoted(text: str) -> str:
    """A label safe inside Mermaid double quotes."""
    return '"' + " ".join(text.split()).replace('"', "#quot;") + '"'


def edges(definition: WorkflowDefinition) -> list[tuple[str, str, str]]:
    """Every (source, dest, trigger) of the workflow, `previous` resolved, in file order."""
    hold = definition.hold_state()
    held_from = [
        src
        for t in definition.transitions
        if hold is not None and t.dest == hold
        for src in t.sources
        if src != hold
    ]
    out: list[tuple[str, str, str]] = []
    for t in definition.transitions:
        for src in t.sources:
            dests = list(dict.fromkeys(held_from)) if t.dest == PREVIOUS else [t.dest]
            for dest in dests:
                if (src, dest, t.trigger) not in out:
                    out.append((src, dest, t.trigger))
    return out


def mermaid(
    definition: WorkflowDefinition, current_state: str | None = None, language: str = "en"
) -> str:
    """Mermaid stateDiagram-v2 text; `current_state`, when given, is styled `current`."""
    if current_state is not None and current_state not in definition.states:
        raise ValueError(
            f"unknown state '{current_state}' in workflow '{definition.name}' "
            f"(known: {', '.join(definition.states)})"
        )
    lines = ["stateDiagram-v2"]
    lines += [
        f"    state {_quoted(s.label.get(language))} as {name}"
        for name, s in definition.states.items()
    ]
    lines.append(f"    [*] --> {definition.initial}")
    lines += [f"    {src} --> {dest} : {trigger}" for src, dest, trigger in edges(definition)]
    lines += [f"    {name} --> [*]" for name in definition.final_states()]
    if current_state is not None:
        lines.append(f"    classDef current {CURRENT_STYLE}")
        lines.append(f"    class {current_state} current")
    return "\n".join(lines) + "\n"
