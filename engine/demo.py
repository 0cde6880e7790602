"""Demo data for a fresh installation, loaded through the engine so every rule applies."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.yaml_reader import ReadRefused, parse, read_text
from engine.account_views import DEMO_USERS
from engine.accounts import Accounts
from engine.actor import Actor
from engine.errors import InvalidData
from engine.service import Engine
from workflows.loader import WORKFLOW_DIR

DEMO_FILE = Path(__file__).resolve().parent.parent / "config" / "demo.yaml"
SIDE_STEPS: dict[str, tuple[str, dict[str, Any]]] = {
    "on_hold": ("put_on_hold", {"hold_reason": "Waiting for the EMB to confirm the dates."}),
    "declined": ("decline", {"decline_reason": "Outside CICIE's programmes this year."}),
}


def read_yaml(path: Path) -> Any:
    """A bundled YAML file through the shared reader: YAML 1.2 scalars (an EMB in Norway,
    `country: NO`, stays "NO", not false), every problem with the file and line."""
    try:
        value, problems = parse(read_text(path))
    except ReadRefused as exc:
        problems = exc.problems
    if problems:
        raise ValueError("\n".join(f"{path}:{p.line}: {p.message}" for p in problems))
    return value


def example_steps(programme: str) -> list[dict[str, Any]]:
    return list(read_yaml(WORKFLOW_DIR / "examples" / f"{programme}.yaml")["steps"])


def load_demo(engine: Engine, path: Path = DEMO_FILE) -> int:
    """Create the demo EMBs and requests when there are no requests yet; returns how many."""
    if engine.list_requests(limit=1):
        return 0
    demo = read_yaml(path)
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


@dataclass(frozen=True)
class DemoLogin:
    """What a developer needs to try a fresh demo installation (shown once, never logged)."""

    passwords: dict[str, str]
    token: str


def load_demo_installation(engine: Engine, accounts: Accounts) -> tuple[int, DemoLogin | None]:
    """Demo requests into an empty database and, when nobody can sign in yet, one user per
    role and an API token for the coordinator. Only `cicie serve --demo` and `cicie demo
    load` call this; it is refused in production (`cli`)."""
    loaded = load_demo(engine)
    created = ensure_demo_users(accounts)
    if not created:
        return loaded, None
    token = accounts.issue_token("coordinator", "demo")
    return loaded, DemoLogin(created, token)


def ensure_demo_users(accounts: Accounts) -> dict[str, str] | None:
    """On a database with nobody in it, one user per role with a random password
    ({username: password}, to show once); None when users already exist."""
    if accounts.has_users():
        return None
    created: dict[str, str] = {}
    for role in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        try:
            accounts.add_user(role, role, password)
        except InvalidData:
            if not created:  # another process started at the same time and made them
                return None
            raise
        created[role] = password
    return created
