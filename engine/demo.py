"""Demo data for a fresh installation, loaded through the engine so every rule applies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from engine.actor import Actor
from engine.service import Engine
from workflows.loader import WORKFLOW_DIR

DEMO_FILE = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
SIDE_STEPS: dict[str, tuple[str, dict[str, Any]]] = {
    "on_hold": ("put_on_hold", {"hold_reason": "Waiting for the EMB to confirm the dates."}),
    "declined": ("decline", {"decline_reason": "Outside CICIE's programmes this year."}),
}


def example_steps(programme: str) -> list[dict[str, Any]]:
    text = (WORKFLOW_DIR / "examples" / f"{programme}.yaml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text)["steps"])


def load_demo(engine: Engine, path: Path = DEMO_FILE) -> int:
    """Create the demo EMBs and requests when there are no requests yet; returns how many."""
    if engine.list_requests(limit=1):
        return 0
    demo = yaml.safe_load(path.read_text(encoding="utf-8"))
    known = {e.code for e in engine.list_embs()}
    for emb in demo["embs"]:
        if emb["code"] not in known:
            engine.add_emb(**emb)
    coordinator = Actor("coordinator", "demo")
    for item in demo["requests"]:
        view = engine.create(
            item["programme"], emb_code=item["emb"], title=item["title"], actor=coordinator
        )
        target = item["state"]
        side = SIDE_STEPS.get(target)
        if side is not None:  # an early step, then the side transition
            view = engine.advance(view.id, side[0], coordinator, data=side[1])
            continue
        for step in example_steps(item["programme"]):
            if view.state == target:
                break
            view = engine.advance(
                view.id, step["trigger"], Actor.parse(step["as"]), data=step.get("data") or {}
            )
    return len(demo["requests"])
