"""In-process signals that let features hear about each other without importing each other.

Actions send them; live chat listens and tells the customer.  Receivers get the
sender name and keyword arguments documented on each signal.
"""
from blinker import Namespace

_signals = Namespace()

# order_no, status (new), previous (old status or None), detail (plain words, optional)
order_changed = _signals.signal("order-changed")
# action: dict as the API returns it, order_no, actor (User or None)
action_finished = _signals.signal("action-finished")
# request: dict as the API returns it (id, order_no, state, note, ...), actor
edit_request_decided = _signals.signal("edit-request-decided")
# order_no, serials (list of new serials), secrets (list, for the customer's own chat only)
keys_reissued = _signals.signal("keys-reissued")
# changes: list of adapters.base.OrderChange a shop pushed to /api/webhooks/orders (committed)
order_pushed = _signals.signal("order-pushed")
