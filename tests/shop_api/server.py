"""A small reference implementation of the shop API, backed by the reference SQL store.

Tests start it on a free loopback port (``running_shop_api``) and point an
``HttpOrderStore`` at it.  ``mode`` makes it misbehave the ways real shops do: ``slow``
(answers after ``delay`` seconds), ``failing`` (503 to everything), ``flapping`` (every
other request 503).  ``hits`` counts requests per (method, path) so tests can see retries.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation

from flask import Flask, abort, jsonify, request
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from adapters import http_wire as wire
from adapters.base import OrderStore, StoreError

TOKEN = "shop-api-test-token"


class ShopApi:
    """The Flask app and its misbehaviour switches."""

    def __init__(self, store: OrderStore, token: str = TOKEN) -> None:
        self.store, self.token = store, token
        self.mode, self.delay = "ok", 0.0
        self.hits: Counter[tuple[str, str]] = Counter()
        self._flap = 0
        self._lock = threading.Lock()
        self.app = self._build()

    def _misbehave(self):
        with self._lock:
            self.hits[(request.method, request.url_rule.rule if request.url_rule else "?")] += 1
            self._flap += 1
            flap = self._flap
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "failing" or (self.mode == "flapping" and flap % 2 == 1):
            return jsonify(error={"code": "store_unavailable", "message": "down"}), 503
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return jsonify(error={"code": "unauthorized", "message": "bad token"}), 401
        return None

    def _build(self) -> Flask:
        app = Flask("shop_api")
        store = self.store
        app.before_request(self._misbehave)

        @app.errorhandler(StoreError)
        def store_error(exc: StoreError):
            return jsonify(wire.error_body(exc)), wire.ERROR_STATUS.get(exc.code, 409)

        def body() -> dict:
            data = request.get_json(silent=True)
            if not isinstance(data, dict):
                abort(400)
            return data

        def key() -> str:
            value = request.headers.get("Idempotency-Key", "")
            if not value:
                abort(400)
            return value

        @app.get("/health")
        def health():
            store.ping()
            return jsonify(ok=True)

        @app.get("/capabilities")
        def capabilities():
            return jsonify(capabilities=sorted(store.capabilities))

        @app.get("/orders/<path:order_no>/related")
        def related(order_no: str):
            return jsonify(wire.dump_related(store.related(order_no)))

        @app.get("/orders/<path:order_no>")
        def get(order_no: str):
            return jsonify(order=wire.dump_order(store.get(order_no)))

        @app.get("/orders")
        def recent():
            page = store.recent(int(request.args.get("offset", 0)),
                                int(request.args.get("limit", 50)))
            return jsonify(orders=[wire.dump_summary(s) for s in page.items], total=page.total)

        @app.post("/orders/search")
        def search():
            query = wire.parse_query(body().get("query") or {})
            return jsonify(candidates=[wire.dump_candidate(c) for c in store.search(query)])

        @app.get("/products")
        def products():
            return jsonify(products=[wire.dump_product(p) for p in store.products()])

        @app.post("/customers/orders")
        def customer_orders():
            data = body()
            found = store.orders_for_customer(wire.parse_contact(data.get("contact") or {}),
                                              int(data.get("limit", 50)))
            return jsonify(orders=[wire.dump_summary(s) for s in found])

        @app.post("/orders/by-ip")
        def by_ip():
            data = body()
            found = store.orders_for_ip(str(data.get("ip") or ""), int(data.get("limit", 50)))
            return jsonify(orders=[wire.dump_summary(s) for s in found])

        @app.get("/changes")
        def changes():
            found, cursor = store.changed_since(request.args.get("cursor"))
            return jsonify(changes=[wire.dump_change(c) for c in found], cursor=cursor)

        @app.post("/orders/<path:order_no>/reissue")
        def reissue(order_no: str):
            order = store.reissue(order_no, str(body().get("reason") or ""), key())
            return jsonify(order=wire.dump_order(order))

        @app.post("/orders/<path:order_no>/refund")
        def refund(order_no: str):
            data = body()
            try:
                amount = Decimal(str(data.get("amount")))
            except InvalidOperation:
                abort(400)
            order = store.refund(order_no, amount, str(data.get("reason") or ""), key())
            return jsonify(order=wire.dump_order(order))

        @app.post("/orders/<path:order_no>/cancel")
        def cancel(order_no: str):
            order = store.cancel(order_no, str(body().get("reason") or ""), key())
            return jsonify(order=wire.dump_order(order))

        @app.post("/orders/<path:order_no>/edit")
        def edit(order_no: str):
            order = store.apply_edit(order_no, body().get("changes") or {}, key())
            return jsonify(order=wire.dump_order(order))

        return app


@contextmanager
def running_shop_api(store: OrderStore, token: str = TOKEN) -> Iterator[tuple[ShopApi, str]]:
    """Serve the shop API on 127.0.0.1 (a free port, threaded); yield it and its base URL."""
    api = ShopApi(store, token)
    mounted = DispatcherMiddleware(NotFound(), {"/api": api.app})
    server = make_server("127.0.0.1", 0, mounted, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="shop-api", daemon=True)
    thread.start()
    try:
        yield api, f"http://127.0.0.1:{server.server_port}/api"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
