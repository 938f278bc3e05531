"""A demo instance: generated orders, stocked shelves and known logins."""
from __future__ import annotations

from dataclasses import dataclass

from tqdm import tqdm

from adapters.base import OrderStore, loader_of, shelf_of
from adapters.demo_data import catalogue, generate_orders, inventory, watch_scenario
from console.demo_seed import seed_demo_desk
from console.extensions import db
from console.people import find_user, save_user

STOCK_PER_PRODUCT = 40


@dataclass(frozen=True)
class DemoReport:
    orders: int
    generated: int


def prepare_demo(store: OrderStore, count: int, seed: int, users: tuple[tuple[str, str], ...],
                 progress: bool = True) -> DemoReport:
    """Fill an empty store; an existing one is reused as it is, so re-runs are instant."""
    loader, stockist = loader_of(store), shelf_of(store)
    existing = loader.count()
    generated = watched = 0
    if existing == 0 and count > 0:
        with tqdm(total=count, unit="orders", disable=not progress, desc="demo store") as bar:
            generated = loader.load(generate_orders(count, seed=seed), upsert=False,
                                    on_batch=bar.update)
        watched = loader.load(watch_scenario(seed), upsert=False)  # alerts and an incident
        shelf = catalogue(seed)
        stockist.add_products(shelf)
        stockist.add_inventory(inventory(shelf, seed, STOCK_PER_PRODUCT))
    for name, password in users:
        if find_user(name) is None:
            save_user(name, name if name in ("agent", "supervisor", "admin") else "agent", password)
    db.session.commit()
    seed_demo_desk(store, db.session)  # canned replies, a pending refund, a waiting chat
    return DemoReport(orders=existing + generated + watched, generated=generated)
