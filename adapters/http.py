"""HttpOrderStore: a shop that exposes its orders through the Kamidesk shop API.

The API is documented in ``docs/shop-api.openapi.yaml``; ``adapters.http_wire`` holds its
JSON shapes.  A remote shop is slower and flakier than a database, so every call has a
connect and a read timeout; reads are retried with exponential backoff and jitter; actions
are sent once (their Idempotency-Key makes the agent's retry safe, a blind retry by the
adapter could still double an effect on a shop that ignores keys), and are re-sent only when
the connection was refused before anything left.  A circuit breaker stops calling a shop
that keeps failing, so an outage costs the agent one fast ``StoreUnavailable`` (shown as a
banner) instead of a timeout per click, while chat, which needs no order store, goes on.
"""
from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests
from urllib3.exceptions import NewConnectionError

from adapters import http_wire as wire
from adapters.base import (
    CAP_CANCEL,
    CAP_CHANGES,
    CAP_DELIVERY_LOG,
    CAP_EDIT,
    CAP_PHONE,
    CAP_REFUND,
    CAP_REISSUE,
    CAP_SEARCH,
    CAP_WEBHOOK,
    Candidate,
    Contact,
    NotAllowed,
    Order,
    OrderChange,
    OrderSummary,
    Page,
    Product,
    RelatedCounts,
    SearchQuery,
    StoreUnavailable,
)

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
# What a shop may declare over HTTP (importing orders is the reference store's own affair).
REMOTE_CAPABILITIES = frozenset({CAP_SEARCH, CAP_EDIT, CAP_REISSUE, CAP_REFUND, CAP_CANCEL,
                                 CAP_CHANGES, CAP_DELIVERY_LOG, CAP_PHONE, CAP_WEBHOOK})
API_VERSION = "1"


class CircuitBreaker:
    """Closed → open after ``threshold`` failures in a row → one trial call after ``cooldown``.

    While open, calls fail at once; the trial call (half-open) closes it on success and
    opens it again on failure.
    """

    def __init__(self, threshold: int = 5, cooldown: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.threshold, self.cooldown, self.clock = threshold, cooldown, clock
        self.state = "closed"
        self.failures = 0
        self.opened_at = 0.0
        self._trial = False
        self._lock = threading.Lock()

    def before(self) -> None:
        with self._lock:
            if self.state == "open":
                left = self.cooldown - (self.clock() - self.opened_at)
                if left > 0:
                    raise StoreUnavailable(f"the shop API kept failing; Kamidesk tries it again "
                                           f"in {max(1, round(left))} s")
                self.state, self._trial = "half_open", False
            if self.state == "half_open":
                if self._trial:
                    raise StoreUnavailable("the shop API kept failing; Kamidesk is testing "
                                           "whether it is back")
                self._trial = True

    def success(self) -> None:
        with self._lock:
            self.state, self.failures, self._trial = "closed", 0, False

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.state == "half_open" or self.failures >= self.threshold:
                self.state, self.opened_at, self._trial = "open", self.clock(), False


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request cannot have reached the shop (refused or connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(getattr(reason, "reason", reason), NewConnectionError)


class HttpOrderStore:
    """The port over a shop's JSON API (``KAMIDESK_STORE=http``)."""

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 10.0,
                 connect_timeout: float = 3.0, retries: int = 2, backoff: float = 0.2,
                 breaker_threshold: int = 5, breaker_cooldown: float = 15.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("KAMIDESK_STORE_URL must be an http:// or https:// URL for the "
                             "http store")
        self.base = url.rstrip("/")
        self.timeout = (float(connect_timeout), float(timeout))
        self.retries, self.backoff = int(retries), float(backoff)
        self.breaker = CircuitBreaker(int(breaker_threshold), float(breaker_cooldown))
        self.session = requests.Session()
        self.session.headers.update({"Accept": "application/json",
                                     "User-Agent": f"Kamidesk shop-api/{API_VERSION}"})
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self._capabilities: frozenset[str] | None = None

    # --- plumbing -----------------------------------------------------------
    def _call(self, method: str, path: str, *, body: Any = None,
              params: Mapping[str, Any] | None = None, idempotent: bool = True,
              key: str | None = None, order_no: str | None = None) -> Any:
        self.breaker.before()
        headers = {"Idempotency-Key": key} if key else {}
        attempts = 1 + max(0, self.retries)
        failure = "no answer"
        for attempt in range(attempts):
            retry = idempotent
            try:
                answer = self.session.request(method, self.base + path, json=body,
                                              params=params, headers=headers,
                                              timeout=self.timeout)
            except requests.Timeout as exc:
                failure = f"timed out ({exc.__class__.__name__})"
                retry = idempotent or _never_sent(exc)
            except requests.RequestException as exc:
                failure = f"could not be reached ({exc.__class__.__name__})"
                retry = idempotent or _never_sent(exc)
            else:
                if answer.status_code < 500 and answer.status_code not in RETRYABLE_STATUS:
                    self.breaker.success()
                    return self._answer(answer, order_no)
                failure = f"answered HTTP {answer.status_code}"
            if not retry or attempt == attempts - 1:
                break
            time.sleep(self.backoff * (2 ** attempt) * (0.5 + random.random()))
        self.breaker.failure()
        raise StoreUnavailable(f"the shop API {failure}")

    @staticmethod
    def _answer(answer: requests.Response, order_no: str | None) -> Any:
        try:
            body = answer.json()
        except ValueError:
            raise StoreUnavailable(f"the shop API answered HTTP {answer.status_code} "
                                   "without JSON") from None
        if answer.status_code in (401, 403):
            raise StoreUnavailable(f"the shop API refused Kamidesk's token (HTTP "
                                   f"{answer.status_code}); check KAMIDESK_STORE_TOKEN")
        if answer.status_code >= 400:
            raise wire.error_from(body, order_no)
        return body

    @staticmethod
    def _path(order_no: str, tail: str = "") -> str:
        return f"/orders/{quote(order_no, safe='')}{tail}"

    def close(self) -> None:
        self.session.close()

    @property
    def capabilities(self) -> frozenset[str]:
        """What the shop declares at ``GET /capabilities``, asked once it answers.

        Until then this raises ``StoreUnavailable``: guessing "cannot refund" while the shop
        is down would turn a refund the shop makes into a manual one.
        """
        if self._capabilities is None:
            declared = self._call("GET", "/capabilities")["capabilities"]
            self._capabilities = frozenset(str(c) for c in declared) & REMOTE_CAPABILITIES
        return self._capabilities

    def ping(self) -> None:
        self._call("GET", "/health")

    # --- reads ----------------------------------------------------------------
    def get(self, order_no: str) -> Order:
        return wire.parse_order(self._call("GET", self._path(order_no),
                                           order_no=order_no)["order"])

    def recent(self, offset: int = 0, limit: int = 50) -> Page:
        body = self._call("GET", "/orders", params={"offset": offset, "limit": limit})
        return Page(tuple(wire.parse_summary(s) for s in body["orders"]), int(body["total"]),
                    offset, limit)

    def search(self, query: SearchQuery) -> list[Candidate]:
        body = self._call("POST", "/orders/search", body={"query": wire.dump_query(query)})
        return [wire.parse_candidate(c) for c in body["candidates"]]

    def products(self) -> list[Product]:
        return [wire.parse_product(p) for p in self._call("GET", "/products")["products"]]

    def orders_for_customer(self, contact: Contact, limit: int = 50) -> list[OrderSummary]:
        if not (contact.account or contact.phone or contact.email):
            return []
        body = self._call("POST", "/customers/orders",
                          body={"contact": wire.dump_contact(contact), "limit": limit})
        return [wire.parse_summary(s) for s in body["orders"]]

    def related(self, order_no: str) -> RelatedCounts:
        return wire.parse_related(self._call("GET", self._path(order_no, "/related"),
                                             order_no=order_no))

    def orders_for_ip(self, ip: str, limit: int = 50) -> list[OrderSummary]:
        if not ip:
            return []
        body = self._call("POST", "/orders/by-ip", body={"ip": ip, "limit": limit})
        return [wire.parse_summary(s) for s in body["orders"]]

    def changed_since(self, cursor: str | None) -> tuple[list[OrderChange], str]:
        body = self._call("GET", "/changes", params={"cursor": cursor} if cursor else None)
        return [wire.parse_change(c) for c in body["changes"]], str(body["cursor"])

    # --- actions (sent once; the key makes a repeat a replay) ----------------------
    def _act(self, order_no: str, action: str, key: str, body: dict) -> Order:
        if action not in self.capabilities:
            raise NotAllowed(f"this shop does not offer {action}")
        if not key or len(key) > 128:
            raise NotAllowed("an action needs an idempotency key of 1 to 128 characters")
        answer = self._call("POST", self._path(order_no, f"/{action}"), body=body,
                            idempotent=False, key=key, order_no=order_no)
        return wire.parse_order(answer["order"])

    def apply_edit(self, order_no: str, changes: Mapping[str, object], key: str) -> Order:
        return self._act(order_no, "edit", key, {"changes": dict(changes)})

    def reissue(self, order_no: str, reason: str, key: str) -> Order:
        return self._act(order_no, "reissue", key, {"reason": reason})

    def refund(self, order_no: str, amount: Decimal, reason: str, key: str) -> Order:
        return self._act(order_no, "refund", key, {"amount": format(amount, "f"),
                                                    "reason": reason})

    def cancel(self, order_no: str, reason: str, key: str) -> Order:
        return self._act(order_no, "cancel", key, {"reason": reason})
