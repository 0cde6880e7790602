"""Demo data for a fresh installation, loaded through the engine so every rule applies: the
demo requests (config/demo.yaml) and, while the database holds no history, the brochure's
history (results/data/brochure_history.yaml), so the results page and its map are full at
first sight."""

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
from results.history_format import read_history
from results.importer import brochure_path, import_history
from storage import activities as history_store
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


def step_data(item: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    """What one demo request sends at one step of its programme's example: the example's data
    with the request's own values (`data`: each field replaced in the step that sets it), plus
    what the request adds at that step (`add: {trigger: {field: value}}`). So two requests of
    one programme never carry the same course, dates or people."""
    own = item.get("data") or {}
    data = {k: own.get(k, v) for k, v in (step.get("data") or {}).items()}
    return data | ((item.get("add") or {}).get(step["trigger"]) or {})


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
                view.id, step["trigger"], Actor.parse(step["as"]), data=step_data(item, step)
            )
    return len(demo["requests"])


def load_demo_history(engine: Engine) -> int:
    """Import the brochure's history (§ III results 2004–2015, § IV 2016 calendar) when the
    database holds no history at all, as `cicie import history --brochure` does; returns how
    many activities were imported (0 when some history was already there)."""
    with engine.db.read() as conn:
        if history_store.sources(conn):
            return 0
    source = read_history(brochure_path(), theme_ids=engine.catalogues.themes)
    return import_history(engine.db, source, engine.clock()).inserted


@dataclass(frozen=True)
class DemoLogin:
    """What a developer needs to try a fresh demo installation (shown once, never logged)."""

    passwords: dict[str, str]
    token: str


def load_demo_installation(engine: Engine, accounts: Accounts) -> tuple[int, DemoLogin | None]:
    """Demo requests into an empty database, the brochure's history while there is none, and,
    when nobody can sign in yet, one user per role and an API token for the coordinator. Only
    `cicie serve --demo` and `cicie demo load` call this; it is refused in production
    (`cli`)."""
    loaded = load_demo(engine)
    load_demo_history(engine)
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
