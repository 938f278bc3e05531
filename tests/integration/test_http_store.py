"""HttpOrderStore against the reference shop API on loopback when the shop misbehaves.

The server (tests/shop_api/server.py) runs in this process on a real socket; ``api.hits``
counts the requests it actually received, so retries and the breaker are seen from the
shop's side.  No test measures time: waits are bounded by the client's own timeouts.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters import build_order_store
from adapters.base import SearchQuery, StoreUnavailable
from adapters.http import REMOTE_CAPABILITIES
from tests.order_factory import KEY_CARD, load, make_order, stock
from tests.shop_api.server import TOKEN, running_shop_api

GET = ("GET", "/orders/<path:order_no>")
SEARCH = ("POST", "/orders/search")
REISSUE = ("POST", "/orders/<path:order_no>/reissue")
OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "shop-api.openapi.yaml"


@pytest.fixture
def shop(tmp_path):
    backing = build_order_store("sql", f"sqlite:///{tmp_path / 'shop.db'}")
    load(backing, make_order("H-1", status="delivered", keys=1))
    with running_shop_api(backing) as (api, url):
        api.backing, api.url = backing, url
        yield api
    backing.close()


def client(shop, **options):
    settings = {"token": TOKEN, "timeout": 0.5, "retries": 2, "backoff": 0.01} | options
    return build_order_store("http", shop.url, **settings)


def test_reads_and_capabilities_come_from_the_shop(shop):
    store = client(shop)
    assert store.capabilities == shop.backing.capabilities & REMOTE_CAPABILITIES
    assert "import" not in store.capabilities  # the reference store's own, not over HTTP
    assert store.get("H-1") == shop.backing.get("H-1")


def test_a_slow_shop_times_out_as_store_unavailable_after_retries(shop):
    store = client(shop, timeout=0.2, retries=1)
    shop.mode, shop.delay = "slow", 1.0
    with pytest.raises(StoreUnavailable, match="timed out"):
        store.get("H-1")
    assert shop.hits[GET] == 2  # the first try and one retry


def test_a_failing_shop_retries_reads_but_sends_an_action_once(shop):
    store = client(shop)
    assert store.capabilities  # learnt while the shop is up
    stock(shop.backing, KEY_CARD, 1)
    shop.mode = "failing"
    with pytest.raises(StoreUnavailable, match="HTTP 503"):
        store.search(SearchQuery(keys=("H-1",)))
    assert shop.hits[SEARCH] == 3
    with pytest.raises(StoreUnavailable):
        store.reissue("H-1", "dead key", "h-key-1")
    assert shop.hits[REISSUE] == 1
    assert shop.backing.stock(KEY_CARD.sku) == 1


def test_a_flapping_shop_is_absorbed_by_retries(shop):
    store = client(shop)
    shop.mode = "flapping"
    for _ in range(6):
        assert store.get("H-1").order_no == "H-1"
    assert shop.hits[GET] > 6


def test_the_breaker_opens_fails_fast_and_closes_after_a_good_trial(shop):
    now = [1000.0]
    store = client(shop, retries=0, breaker_threshold=3, breaker_cooldown=30)
    store.breaker.clock = lambda: now[0]
    shop.mode = "failing"
    for _ in range(3):
        with pytest.raises(StoreUnavailable):
            store.get("H-1")
    assert shop.hits[GET] == 3
    with pytest.raises(StoreUnavailable, match="kept failing"):
        store.get("H-1")
    assert shop.hits[GET] == 3  # open: the shop is not called at all
    now[0] += 31
    with pytest.raises(StoreUnavailable):  # the trial fails: open again
        store.get("H-1")
    assert (shop.hits[GET], store.breaker.state) == (4, "open")
    shop.mode = "ok"
    now[0] += 31
    assert store.get("H-1").order_no == "H-1"
    assert store.breaker.state == "closed"


def test_a_wrong_token_is_an_outage_that_names_the_setting(shop):
    store = client(shop, token="wrong")
    with pytest.raises(StoreUnavailable, match="KAMIDESK_STORE_TOKEN"):
        store.get("H-1")


def test_the_openapi_file_documents_every_path_the_client_and_server_use(shop):
    text = OPENAPI.read_text(encoding="utf-8")
    documented = set(re.findall(r"^  (/[^:\s]*):\s*$", text, re.M))
    served = {re.sub(r"<path:(\w+)>", r"{\1}", rule.rule)
              for rule in shop.app.url_map.iter_rules() if rule.endpoint != "static"}
    assert served == documented
    client_source = (Path(__file__).resolve().parents[2] / "adapters" / "http.py").read_text()
    for path in re.findall(r'"(/[a-z/-]+)"', client_source):
        assert path in documented or f"/orders/{{order_no}}{path}" in documented, path
    for code in ("order_not_found", "not_allowed", "out_of_stock", "conflict", "not_paid",
                 "over_refund", "Idempotency-Key"):
        assert code in text
