"""Order changes a shop pushes to ``POST /api/webhooks/orders`` (HMAC-signed, replay-proof).

``signature`` checks a delivery, ``inbox`` keeps the changes in the console DB for the order
watcher (``pushed_since`` has the shape of ``OrderStore.changed_since``), ``views`` holds the
blueprint and the endpoint.
"""
