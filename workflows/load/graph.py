"""Stage 4: the graph of a shape-valid definition — every state reachable from the initial
one, no dead ends or traps (a final state reachable without the generic exits), and no two
declarations of one trigger that the machine could not tell apart."""

from __future__ import annotations

from collections.abc import Iterable

from workflows.definition import PREVIOUS, TransitionDef, WorkflowDefinition
from workflows.load.context import Problems


class GraphCheck:
    """Reachability, dead ends, traps and ambiguity, on a shape-valid definition."""

    def __init__(self, definition: WorkflowDefinition, problems: Problems) -> None:
        self.d = definition
        self.p = problems

    def _edges(self, forward_only: bool) -> dict[str, set[str]]:
        """State → next states.

        Reachability (`forward_only=False`) follows every declared transition except
        `dest: previous`: a resume returns a request to a state it was already in.
        Ways forward (`forward_only=True`) also leave out the generic exits a state got from
        `source: active` and every move into the hold state: put on hold, then resumed, a
        request is back where it was, so hold-and-resume never brings it closer to the end.
        """
        edges: dict[str, set[str]] = {s: set() for s in self.d.states}
        for t in self.d.transitions:
            if t.dest == PREVIOUS:
                continue
            for src in t.sources:
                if forward_only and (src in t.generic_sources or self.d.states[t.dest].hold):
                    continue
                edges[src].add(t.dest)
        return edges

    def run(self) -> None:
        reachable = _closure([self.d.initial], self._edges(forward_only=False))
        for name in self.d.states:
            if name not in reachable:
                self.p.at(
                    ("states", name), f"state '{name}' is unreachable from '{self.d.initial}'"
                )
        finals = set(self.d.final_states())
        if not finals & reachable:
            self.p.at(("initial",), "no final state can be reached from the initial state")
        forward = self._edges(forward_only=True)
        reverse: dict[str, set[str]] = {s: set() for s in self.d.states}
        for src, dests in forward.items():
            for dst in dests:
                reverse[dst].add(src)
        can_finish = _closure(list(finals), reverse)
        resumes = {src for t in self.d.transitions if t.dest == PREVIOUS for src in t.sources}
        for name, state in self.d.states.items():
            if state.final:
                continue
            if state.hold:
                if name not in resumes and not forward[name]:
                    self.p.at(
                        ("states", name),
                        f"hold state '{name}' is a dead end: add a transition with "
                        "'dest: previous' (resume) out of it",
                    )
                continue
            if not forward[name]:
                self.p.at(
                    ("states", name),
                    f"non-final state '{name}' is a dead end: no transition leads out of it "
                    "(the generic exits from every active state, such as withdraw, and "
                    "putting it on hold do not count)",
                )
            elif name not in can_finish:
                self.p.at(
                    ("states", name),
                    f"state '{name}' is a trap: no final state can be reached from it "
                    "except through the generic exits",
                )
        self._ambiguity()

    def _ambiguity(self) -> None:
        seen: dict[tuple[str, str], list[TransitionDef]] = {}
        for t in self.d.transitions:
            for src in t.sources:
                earlier = seen.setdefault((src, t.trigger), [])
                for other in earlier:
                    if _guard_key(other) == _guard_key(t):
                        self.p.at(
                            t.line,
                            f"ambiguous: '{t.trigger}' from '{src}' is declared twice with the "
                            f"same guards (line {other.line}); add a distinguishing guard",
                        )
                    elif not _guard_key(other):
                        self.p.at(
                            t.line,
                            f"'{t.trigger}' from '{src}' can never fire: the declaration at line "
                            f"{other.line} has no guards and always wins",
                        )
                earlier.append(t)


def _guard_key(t: TransitionDef) -> frozenset[tuple[str, str]]:
    return frozenset((g.name, repr(g.params)) for g in t.guards) | frozenset(
        ("required", f) for f in t.requires
    )


def _closure(start: Iterable[str], edges: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    stack = list(seen)
    while stack:
        for nxt in edges.get(stack.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen
