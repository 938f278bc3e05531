"""Take the README's screenshots (docs/screenshot-*.png) from a fresh demo instance.

    .venv/bin/python scripts/screenshots.py [--orders N]

Needs the test extra (Playwright) and Chromium at /usr/bin/chromium, like the browser
tests.  Builds the demo in a temporary folder exactly as ``make demo`` does (orders, users
and the demo desk), serves it on a free loopback port, and drives Chromium through the
screens a new user visits: search, an order, the inbox, the customer's chat widget and the
order page in 简体中文.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VIEWPORT = {"width": 1360, "height": 860}


def build_demo(folder: Path, orders: int):
    from console import create_app
    from console.cli import DEMO_USERS
    from console.demo import prepare_demo
    from console.store import get_store

    app = create_app({"INSTANCE": str(folder), "RATELIMIT_ENABLED": False,
                      "DATABASE_URL": f"sqlite:///{folder / 'console.db'}",
                      "STORE_URL": f"sqlite:///{folder / 'store.db'}"})
    with app.app_context():
        prepare_demo(get_store(), count=orders, seed=42, users=DEMO_USERS, progress=False)
    return app


def desk_facts(app) -> dict:
    """The seeded chat's order (stuck in processing, with an edit request) and its phone."""
    from console.actions.models import EditRequest
    from console.extensions import db
    from console.store import get_store

    with app.app_context():
        edit = db.session.execute(db.select(EditRequest)).scalars().first()
        order = get_store().get(edit.order_no)
        delivered = get_store().recent(0, 200).items
        keyed = next(s.order_no for s in delivered if s.status in ("delivered", "completed")
                     and get_store().get(s.order_no).card_keys)
        return {"order_no": order.order_no, "phone": order.buyer.phone or "",
                "keyed": keyed}


def sign_in(context, url: str, name: str, then: str):
    page = context.new_page()
    page.goto(f"{url}{then}")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", name)
    page.click("#signin")
    page.wait_for_load_state("networkidle")
    return page


def shoot(url: str, facts: dict, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.servers import chromium_args, chromium_path

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True,
                                     args=chromium_args())
        english = browser.new_context(locale="en-US", viewport=VIEWPORT)
        page = sign_in(english, url, "agent", "/")
        tail = facts["phone"][-4:] or "8888"
        page.fill("#q", "腾讯Q币 last month")
        page.wait_for_timeout(1200)
        page.screenshot(path=str(out / "screenshot-search.png"))

        page.goto(f"{url}/orders/{facts['order_no']}")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(out / "screenshot-order.png"))

        page.goto(f"{url}/inbox")
        page.wait_for_selector("#queue-list li button")
        page.click("#queue-list li button")
        page.wait_for_selector("#transcript li")
        page.wait_for_timeout(800)
        page.screenshot(path=str(out / "screenshot-inbox.png"))
        english.close()

        customer = browser.new_context(locale="zh-CN", viewport={"width": 420, "height": 760})
        widget = customer.new_page()
        widget.goto(f"{url}/chat")
        widget.wait_for_selector("#conn")
        widget.click("#orders-box summary")
        widget.fill("#v-order", facts["order_no"])
        widget.fill("#v-proof", tail)
        widget.click("#v-submit")
        widget.wait_for_selector("#orders .order-card")
        widget.fill("#body", "你好，我的话费一直没到账，可以帮我看一下吗？")
        widget.press("#body", "Enter")
        widget.wait_for_timeout(1200)
        widget.screenshot(path=str(out / "screenshot-widget.png"))
        customer.close()

        chinese = browser.new_context(locale="zh-CN", viewport=VIEWPORT)
        page = sign_in(chinese, url, "agent", f"/orders/{facts['keyed']}")
        page.evaluate("window.scrollTo(0, document.getElementById('h-product')"
                      ".getBoundingClientRect().top + window.scrollY - 90)")
        page.screenshot(path=str(out / "screenshot-zh.png"))
        chinese.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()

    from tests.e2e.live import serving

    with tempfile.TemporaryDirectory(prefix="kamidesk-shots-") as folder:
        app = build_demo(Path(folder), args.orders)
        facts = desk_facts(app)
        with serving(app) as url:
            shoot(url, facts, args.out)
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()
