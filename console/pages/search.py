"""What the search screen needs besides the results: labels, chips, pager and export links.

Kept apart from the view so the view stays a few lines, and so ``search.js``
gets its translated words from the page instead of hard-coding English.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from adapters.base import CATEGORIES, STATUSES
from console.search.service import SearchResult

FORM_FIELDS = ("q", "status", "category", "from", "to", "tag")


def status_labels() -> dict[str, str]:
    return {
        "pending_payment": _("Pending payment"), "paid": _("Paid"),
        "processing": _("Processing"), "delivered": _("Delivered"),
        "completed": _("Completed"), "failed": _("Failed"), "after_sales": _("After-sales"),
        "cancelled": _("Cancelled"), "refunded": _("Refunded"),
        "partially_refunded": _("Partially refunded"), "expired": _("Expired"),
    }


def category_labels() -> dict[str, str]:
    return {
        "game_card": _("Game cards"), "game_topup": _("Game top-ups"),
        "phone_topup": _("Phone credit"), "data_topup": _("Mobile data"),
        "video_membership": _("Video memberships"), "gift_card": _("Gift cards"),
        "virtual_currency": _("Virtual currency"), "software_key": _("Software keys"),
        "other": _("Other"),
    }


def match_labels() -> dict[str, str]:
    """Names of the ``matched`` fragments, in the agent's language."""
    return {
        "order_no": _("order no."), "order_no~": _("order no. (close)"),
        "transaction_id": _("transaction id"), "transaction_id~": _("transaction id (close)"),
        "phone": _("phone"), "phone~": _("phone (close)"), "phone_tail": _("phone tail"),
        "email": _("email"), "email~": _("email (close)"), "account": _("account"),
        "recipient": _("recipient"), "ip": _("IP"), "key": _("card key / id"),
        "amount": _("amount"), "date": _("date"), "product": _("product"),
        "category": _("category"), "status": _("status"), "text": _("text"), "tag": _("tag"),
        "code": _("card key piece"), "code~": _("card key piece (close)"),
        "time": _("time of day"), "account~": _("account (close)"),
        "recipient~": _("recipient (close)"),
    }


def chip_labels() -> dict[str, str]:
    """What kind of fragment each chip is, as the agent reads it."""
    return {
        "key": _("number"), "phone": _("phone"), "phone_tail": _("phone tail"),
        "email": _("email"), "email_fragment": _("email part"), "ip": _("IP"),
        "amount": _("amount"), "date": _("date"), "status": _("status"),
        "category": _("category"), "word": _("text"), "tag": _("tag"),
        "code": _("card key piece"), "time": _("time of day"),
    }


def form_values() -> dict[str, str]:
    return {name: ",".join(request.args.getlist(name)) for name in FORM_FIELDS}


def _query(values: dict[str, str], **extra) -> str:
    pairs = [(k, v) for k, v in values.items() if v] + [(k, v) for k, v in extra.items() if v]
    return urlencode(pairs)


def page_context(found: SearchResult | None, hits: list[dict], number: int, size: int,
                 error: str | None) -> dict:
    """Template variables for ``index.html``: the results plus everything around them."""
    values = form_values()
    total = found.total if found else 0
    pages = max(1, -(-total // size))
    base = url_for("pages.index")
    params = _query(values)
    return {
        "form": values, "found": found, "rows": hits, "error": error,
        "mode": found.mode if found else "error", "total": total,
        "number": number, "pages": pages,
        "prev_url": f"{base}?{_query(values, page=number - 1)}" if number > 1 else None,
        "next_url": f"{base}?{_query(values, page=number + 1)}" if number < pages else None,
        "csv_url": url_for("api.export_csv") + ("?" + params if params else ""),
        "xlsx_url": url_for("api.export_xlsx") + ("?" + params if params else ""),
        "api_url": url_for("api.search"),
        "statuses": [(code, status_labels()[code]) for code in STATUSES],
        "categories": [(code, category_labels()[code]) for code in CATEGORIES],
        "matches": match_labels(), "chip_kinds": chip_labels(),
        "i18n": {
            "matches": match_labels(), "chipKinds": chip_labels(),
            "statuses": status_labels(),
            "categories": category_labels(),
            "latest": _("Latest orders"),
            "inStore": _("%(total)s in the store", total="{total}"),
            "result": ngettext("%(count)s result", "%(count)s results", 1, count="{total}"),
            "results": ngettext("%(count)s result", "%(count)s results", 2, count="{total}"),
            "capped": _("showing the best %(total)s; add details to narrow", total="{total}"),
            "took": _("%(ms)s ms", ms="{ms}"),
            "noResults": _("No order matches. Remove a chip or try another fragment."),
            "nothing": _("Nothing to search by yet: type at least three letters or digits."),
            "empty": _("No orders yet."),
            "searching": _("Searching…"),
            "failed": _("Search failed: {message}"),
            "remove": _("Remove “{label}”"),
            "page": _("Page %(n)s of %(m)s", n="{n}", m="{m}"),
            "newer": _("Newer"), "older": _("Older"),
            "prev": _("Previous"), "next": _("Next"),
        },
    }
