"""What the order page and the order JSON routes both read from a request: the agent's
language and the related-search links (kept out of the views so neither imports the other)."""
from __future__ import annotations

from flask import request, url_for
from flask_babel import get_locale

from console.orders.detail import OrderDetail
from console.orders.explain import LANGS, normalise_lang


def agent_lang() -> str:
    """The agent's language for explanations: ``?lang=`` (API callers), else the UI locale."""
    asked = request.args.get("lang")
    if asked in LANGS:
        return asked
    return normalise_lang(str(get_locale() or "en"))


def search_url(query: str) -> str:
    """The search page (``/`` with ``?q=``) for one fragment."""
    return url_for("pages.index", q=query)


def related_links(view: OrderDetail) -> dict[str, str | None]:
    """Search links behind the same-IP and same-buyer counts.

    The IP is shown on the page anyway, so its link searches it directly.  The buyer is
    found by phone or email, which the page masks; that link goes through
    ``orders.related_search`` so following it is audited like a reveal.
    """
    order = view.order
    buyer_link = None
    if view.buyer_search:
        buyer = order.buyer
        buyer_link = (search_url(view.buyer_search) if not (buyer.phone or buyer.email)
                      else url_for("orders.related_search", order_no=order.order_no,
                                   which="same_buyer"))
    return {"same_ip": search_url(order.buyer_ip) if order.buyer_ip else None,
            "same_buyer": buyer_link}
