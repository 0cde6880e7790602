"""Revoking a request's signed links.

Report and status links (engine/links.py) carry the request's links epoch. "Revoke all links"
moves the epoch on, so every link handed out before — forwarded, leaked, sent to someone who
left — stops working at once; links made afterwards carry the new epoch. It is one
transaction: lock the request, bump its version and its epoch, and write one history row, so
the request's history says who revoked the links and when."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.actor import Actor
from engine.errors import NotAllowed, NotFound, VersionConflict
from engine.service import Engine
from storage import hot_path
from storage import requests as request_rows

REVOKE_TRIGGER = "revoke_links"
REVOKE_COMMENT = "all report and status links revoked"
REVOKE_ROLES = ("coordinator", "admin")


@dataclass(frozen=True)
class LinksRevoked:
    request_id: int
    links_epoch: int  # the epoch new links carry
    version: int  # the request's version after the revocation
    history_id: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.request_id,
            "links_epoch": self.links_epoch,
            "version": self.version,
            "history_id": self.history_id,
        }


def current_epoch(engine: Engine, request_id: int) -> int:
    """The epoch a link of this request must carry to be honoured."""
    with engine.db.read() as conn:
        epoch = request_rows.links_epoch(conn, request_id)
    if epoch is None:
        raise NotFound(f"no request {request_id}")
    return epoch


def revoke_links(
    engine: Engine,
    request_id: int,
    actor: Actor,
    *,
    expected_version: int | None = None,
    comment: str = REVOKE_COMMENT,
) -> LinksRevoked:
    """Make every report and status link issued so far for the request stop working."""
    if actor.role not in REVOKE_ROLES:
        raise NotAllowed(
            f"role '{actor.role}' may not revoke a request's links "
            f"(allowed: {', '.join(REVOKE_ROLES)})"
        )
    now = engine.clock()
    with engine.db.transaction() as conn:
        row = hot_path.lock_request(conn, request_id)
        if row is None:
            raise NotFound(f"no request {request_id}")
        if expected_version is not None and row.version != expected_version:
            raise VersionConflict(
                f"request {request_id} changed since you read it (you had version "
                f"{expected_version}, it is now {row.version}); reload and try again",
                {"expected": expected_version, "actual": row.version},
            )
        history_id = hot_path.record_transition(
            conn,
            request_id=row.id,
            expected_version=row.version,
            state=row.state,
            held_from=row.held_from,
            data=None,
            now=now,
            actor_role=actor.role,
            actor_name=actor.name,
            trigger=REVOKE_TRIGGER,
            from_state=row.state,
            comment=comment,
            changes=None,
        )
        assert history_id is not None  # the row is locked
        epoch = request_rows.bump_links_epoch(conn, row.id)
    engine.committed()
    return LinksRevoked(row.id, epoch, row.version + 1, history_id)
