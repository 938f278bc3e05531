"""A demo instance: generated orders, stocked shelves and known logins."""
from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

from console.extensions import db
from console.people import find_user, save_user

STOCK_PER_PRODUCT = 40


@dataclass(frozen=True)
class DemoReport:
    orders: int
    generated: int


def prepare_demo(store, count: int, seed: int, users: tuple[tuple[str, str], ...],
                 progress: bool = True) -> DemoReport:
    """Fill an empty store; an existing one is reused as it is, so re-runs are instant."""
    from adapters.demo_data import catalogue, generate_orders, inventory

    existing = store.count()
    generated = 0
    if existing == 0 and count > 0:
        with tqdm(total=count, unit="orders", disable=not progress, desc="demo store") as bar:
            generated = store.load(generate_orders(count, seed=seed), upsert=False,
                                   on_batch=bar.update)
        shelf = catalogue(seed)
        store.add_products(shelf)
        store.add_inventory(inventory(shelf, seed, STOCK_PER_PRODUCT))
    for name, password in users:
        if find_user(name) is None:
            save_user(name, name if name in ("agent", "supervisor", "admin") else "agent", password)
    db.session.commit()
    from console.demo_seed import seed_demo_desk  # canned replies, approvals, a waiting chat
    seed_demo_desk(store, db.session)
    return DemoReport(orders=existing + generated, generated=generated)
