"""The one service behind every action on an order: refund, reissue, cancel and edits.

The HTTP API, the console pages and the customer widget all come through here, so the
rules are enforced once:

1. the request is checked (``InvalidInput``, nothing stored) and the actor's role
   (``Forbidden``);
2. a repeated Idempotency-Key replays its first answer (another body: ``Refused``);
3. the order's state is checked for a clear reason (``Refused``, nothing stored);
4. one console-DB transaction then claims the key (its first write, which also serialises
   twins), locks the order's console-side totals, writes the action, calls the store with
   the action's own store key, and writes the audit record with the action's final state;
5. only after commit are the signals sent, so live chat never announces a rollback.

Each feature has its module: ``refunds``, ``reissue_cancel``, ``approvals`` (pending
refunds and cancels), ``edits`` (edit requests), ``queries`` (reads for pages), all in
the ``frame`` of step 4.  Settings arrive as ``ActionSettings``; results are
``Outcome``s with a ``Result`` and errors are ``ActionError``s, which the views turn
into HTTP.  This module names the whole service in one place for its callers.
"""
from __future__ import annotations

from console.actions.approvals import approve_action, reject_action
from console.actions.edits import approve_edit, create_edit_request, reject_edit, request_edit
from console.actions.errors import (
    ActionError,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    StoreRefused,
)
from console.actions.frame import action_json, edit_request_json
from console.actions.idempotency import Outcome, Result
from console.actions.queries import order_actions, pending_actions, pending_edit_requests
from console.actions.refunds import refund, refund_left
from console.actions.reissue_cancel import cancel, customer_cancel, reissue
from console.actions.settings import ActionSettings

__all__ = [
    "ActionError", "ActionSettings", "Forbidden", "InvalidInput", "NotFound", "Outcome",
    "Refused", "Result", "StoreRefused", "action_json", "approve_action", "approve_edit",
    "cancel", "create_edit_request", "customer_cancel", "edit_request_json", "order_actions",
    "pending_actions", "pending_edit_requests", "refund", "refund_left", "reissue",
    "reject_action", "reject_edit", "request_edit",
]
