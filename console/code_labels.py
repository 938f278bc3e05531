"""Stored codes in words: the audit page shows "API token created", not ``token_created``;
the actions panel "Waiting for a supervisor", not ``pending_approval``; the top bar
"Agent", not ``agent``.

The codes stay the stored and exported form (the API, the CSV and the filters use them);
only the page turns them into words in the reader's language.  Action outcomes are
written as ``<action>_<outcome>`` (``refund_approved``, ``cancel_failed``), so those are
labelled from the two parts; a code nobody labelled yet still reads as words, never as
an identifier with underscores.
"""
from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "login": _l("Signed in"),
    "login_failed": _l("Sign-in failed"),
    "login_locked": _l("Sign-in locked (too many attempts)"),
    "logout": _l("Signed out"),
    "reauth": _l("Password confirmed again"),
    "user_disabled": _l("User disabled"),
    "user_enabled": _l("User enabled"),
    "reveal_refused": _l("Reveal refused (hourly limit)"),
    "verify_failed": _l("Order verification failed"),
    "verify_locked": _l("Order verification locked (too many attempts)"),
    "user_created": _l("User created"),
    "user_updated": _l("User updated"),
    "token_created": _l("API token created"),
    "token_revoked": _l("API token revoked"),
    "note_added": _l("Note added"),
    "tag_added": _l("Tag added"),
    "tag_removed": _l("Tag removed"),
    "reveal_contact": _l("Contact revealed"),
    "reveal_key": _l("Card key revealed"),
    "refund": _l("Refunded"),
    "reissue": _l("Card key reissued"),
    "cancel": _l("Order cancelled"),
    "edit_requested": _l("Edit requested"),
    "edit_applied": _l("Edit applied"),
    "edit_refused": _l("Edit refused by the store"),
    "export": _l("Data exported"),
    "retention": _l("Old data removed (retention)"),
    "incident_opened": _l("Incident opened"),
    "incident_notified": _l("Incident: customers notified"),
    "incident_closed": _l("Incident closed"),
}

ACTION_LABELS = {
    "refund": _l("Refund"),
    "reissue": _l("Reissue"),
    "cancel": _l("Cancel"),
    "edit": _l("Edit"),
}

OUTCOME_LABELS = {
    "requested": _l("%(action)s requested"),
    "approved": _l("%(action)s approved"),
    "rejected": _l("%(action)s rejected"),
    "failed": _l("%(action)s failed"),
}

STATE_LABELS = {
    "done": _l("Done"),
    "pending_approval": _l("Waiting for a supervisor"),
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "applied": _l("Applied"),
    "rejected": _l("Rejected"),
    "refused": _l("Refused by the store"),
    "failed": _l("Failed"),
}

ROLE_LABELS = {
    "agent": _l("Agent"),
    "supervisor": _l("Supervisor"),
    "admin": _l("Administrator"),
}

FIELD_LABELS = {
    "recipient_account": _l("Recipient account"),
    "sku": _l("Product code"),
    "quantity": _l("Quantity"),
    "remark": _l("Remark"),
}

VIA_LABELS = {
    "agent": _l("by an agent"),
    "customer": _l("from the chat"),
}

DETAIL_LABELS = {
    "action_id": _l("action"),
    "reason": _l("reason"),
    "amount": _l("amount"),
    "request_id": _l("request"),
    "target": _l("user"),
    "role": _l("role"),
    "hint": _l("token ends"),
    "tag": _l("tag"),
    "note": _l("note"),
    "note_id": _l("note"),
    "what": _l("what"),
    "serial": _l("serial"),
    "index": _l("key no."),
    "changes": _l("changes"),
    "fields": _l("fields"),
    "via": _l("via"),
    "requester": _l("requested by"),
    "manual_reference": _l("manual ref."),
    "new_serials": _l("new serials"),
    "voided": _l("voided"),
    "key_status": _l("key state"),
    "message": _l("message"),
    "code": _l("code"),
    "incident_id": _l("incident"),
    "masked": _l("masked"),
    "rows": _l("rows"),
    "period": _l("period"),
    "cutoff": _l("older than"),
    "dry_run": _l("dry run"),
    "counts": _l("counts"),
}


def humanise(code: str) -> str:
    """``some_new_code`` → "Some new code": readable even before anyone labels it."""
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def kind_label(kind: str) -> str:
    """The audit kind as the page shows it, in the current language."""
    if kind in KIND_LABELS:
        return str(KIND_LABELS[kind])
    action, _, outcome = kind.partition("_")
    if action in ACTION_LABELS and outcome in OUTCOME_LABELS:
        return str(OUTCOME_LABELS[outcome]) % {"action": ACTION_LABELS[action]}
    return humanise(kind)


def is_labelled(kind: str) -> bool:
    """True when ``kind`` has its own words (a test keeps every code in the source labelled)."""
    action, _, outcome = kind.partition("_")
    return kind in KIND_LABELS or (action in ACTION_LABELS and outcome in OUTCOME_LABELS)


def detail_label(key: str) -> str:
    """A detail field's name as the page shows it."""
    return str(DETAIL_LABELS[key]) if key in DETAIL_LABELS else humanise(key).lower()


def action_label(kind: str) -> str:
    """An action's kind (``refund``, ``edit``...) as a word."""
    return str(ACTION_LABELS[kind]) if kind in ACTION_LABELS else humanise(kind)


def state_label(state: str) -> str:
    """An action's or edit request's state as words."""
    return str(STATE_LABELS[state]) if state in STATE_LABELS else humanise(state)


def role_label(role: str) -> str:
    return str(ROLE_LABELS[role]) if role in ROLE_LABELS else humanise(role)


def changes_summary(changes: dict) -> str:
    """An edit request's changes as the queue shows them: "Recipient account: 138…; Quantity: 2"."""
    return "; ".join(f"{FIELD_LABELS.get(k, humanise(k))}: {v}" for k, v in changes.items())


def via_label(via: str) -> str:
    return str(VIA_LABELS[via]) if via in VIA_LABELS else humanise(via)


TEMPLATE_FILTERS: dict[str, Callable[..., str]] = {
    "audit_kind": kind_label, "audit_detail": detail_label, "action_kind": action_label,
    "action_state": state_label, "role_label": role_label, "edit_changes": changes_summary,
    "edit_via": via_label,
}
