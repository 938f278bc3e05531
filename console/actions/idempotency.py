"""Idempotency-Key handling: the same request twice gets the first answer, another request
with the same key gets a 409, and only requests that changed something are remembered.

The record is inserted as the *first write* of the action's transaction.  A twin request
racing with the same key therefore waits on it (SQLite's write lock, PostgreSQL's unique
index) and, once the first commits, finds its answer instead of acting a second time.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from console.actions.errors import InvalidInput, Refused
from console.actions.models import IDEMPOTENCY_RETENTION, IdempotencyRecord
from console.errors import STORE_ERROR_STATUS
from console.models import utcnow

MAX_KEY = 128


class Result(StrEnum):
    """How an action ended, in the service's words; views answer each with a status."""

    DONE = "done"
    CREATED = "created"
    PENDING = "pending_approval"
    REFUSED = "refused"  # closed without effect; the body's ``error`` says why


# The number each result is stored as (``status_code``; the values older records hold).
_STORED: dict[Result, int] = {Result.DONE: 200, Result.CREATED: 201, Result.PENDING: 202}


@dataclass
class Outcome:
    """What an action answers: its result and a JSON body, maybe a replay."""

    result: Result
    body: dict
    replayed: bool = False
    after_commit: list = field(default_factory=list, repr=False)

    @property
    def status(self) -> int:
        """The HTTP status an API answers with; a refusal's comes from its error code."""
        if self.result is Result.REFUSED:
            return refusal_status(str(self.body.get("error", {}).get("code", "")))
        return _STORED[self.result]


def refusal_status(code: str) -> int:
    """A refused action answers like the store error of that code (409 for the others)."""
    return next((s for cls, s in STORE_ERROR_STATUS.items() if cls.code == code), 409)


def _stored_result(status: int | None) -> Result:
    return next((r for r, n in _STORED.items() if n == status), Result.REFUSED)


def check_key(key: object) -> str:
    if not isinstance(key, str) or not key.strip():
        raise InvalidInput("idempotency_key_required",
                           "Send an Idempotency-Key header: one new random key per action.")
    key = key.strip()
    if len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput("invalid_idempotency_key",
                           f"The Idempotency-Key must be 1 to {MAX_KEY} printable characters.")
    return key


def request_hash(operation: str, payload: dict) -> str:
    canonical = json.dumps({"operation": operation, **payload}, sort_keys=True, default=str,
                           separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    """One (actor, key) pair and the request it stands for."""

    def __init__(self, session: Session, actor: str, key: str, operation: str,
                 payload: dict) -> None:
        self.session = session
        self.actor = actor
        self.key = check_key(key)
        self.hash = request_hash(operation, payload)
        self.record: IdempotencyRecord | None = None

    @property
    def store_key(self) -> str:
        """The order store's idempotency key for this request: the same request (same actor,
        key and body) always maps to it, so a retry after a failed console commit is a
        replay in the store too."""
        return "kd-" + hashlib.sha256(f"{self.actor}\n{self.key}\n{self.hash}".encode())\
            .hexdigest()[:40]

    def replay(self) -> Outcome | None:
        """The first answer if this key was used for this request; 409 if for another."""
        now = utcnow()
        found = self.session.execute(
            select(IdempotencyRecord).where(IdempotencyRecord.actor == self.actor,
                                            IdempotencyRecord.key == self.key)
        ).scalar_one_or_none()
        if found is None or found.expires_at <= now or found.response is None:
            return None
        if found.request_hash != self.hash:
            raise Refused("idempotency_conflict",
                          "This Idempotency-Key was already used for a different request.")
        return Outcome(_stored_result(found.status_code or 200), found.response, replayed=True)

    def claim(self) -> bool:
        """Insert the record (the transaction's first write); False if a twin got there first.

        An expired record of the same key is replaced; ``purge`` sweeps the others.
        """
        now = utcnow()
        try:
            self.session.execute(delete(IdempotencyRecord).where(
                IdempotencyRecord.actor == self.actor, IdempotencyRecord.key == self.key,
                IdempotencyRecord.expires_at <= now))
            self.record = IdempotencyRecord(actor=self.actor, key=self.key,
                                            request_hash=self.hash, created_at=now,
                                            expires_at=now + IDEMPOTENCY_RETENTION)
            self.session.add(self.record)
            self.session.flush()
        except IntegrityError:
            self.session.rollback()
            self.record = None
            return False
        return True

    def remember(self, outcome: Outcome) -> None:
        """Keep the answer for replays, without card-key secrets: a replay fetches them
        again through an audited reveal (``console/api/actions.py``)."""
        assert self.record is not None, "claim() first"
        self.record.status_code = outcome.status
        self.record.response = without_secrets(outcome.body)  # type: ignore[assignment]  # a dict in, a dict out


SECRET_FIELDS = frozenset({"secret", "secrets"})


def without_secrets(value: object) -> object:
    """A copy with every unmasked ``secret`` emptied (and flagged ``secret_masked``);
    secrets already masked for display stay as they are."""
    if isinstance(value, dict):
        if value.get("secret_masked"):
            return dict(value)
        copy = {k: (None if k in SECRET_FIELDS else without_secrets(v)) for k, v in value.items()}
        if "secret" in value:
            copy["secret_masked"] = True
        return copy
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    return value


def purge(session: Session) -> int:
    """Forget expired records in a short transaction of its own, so that sweeping never
    holds locks while an action waits on the order store."""
    gone = session.execute(delete(IdempotencyRecord)
                           .where(IdempotencyRecord.expires_at <= utcnow())).rowcount  # type: ignore[attr-defined]  # DML: a CursorResult
    session.commit()
    return gone
