"""``GET /api/orders/search`` and its exports (``.csv``, ``.xlsx``): thin HTTP glue.

The search itself is :func:`console.search.service.search_orders`; this module
turns query-string parameters into a :class:`SearchRequest`, keeps one product
catalogue per application, and shapes the answer.  These static routes are
matched before ``/api/orders/<order_no>`` (Werkzeug prefers static parts), so
an order can never be called "search".
"""
from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo

from flask import Response, current_app, jsonify, request, stream_with_context
from flask_babel import gettext as _

from console.access import role_required
from console.api.params import int_param
from console.api.views import bp
from console.errors import ApiError
from console.exports import audit_export, export_unmasked
from console.extensions import limiter
from console.presenters import summary_json
from console.ratelimits import config_limit, per_user
from console.search.ranker import Ranked
from console.search.service import (
    EXPORT_CAP,
    CatalogueCache,
    InvalidSearch,
    SearchRequest,
    SearchResult,
    search_orders,
)
from console.store import get_store

CATALOGUE_KEY = "kamidesk.search.catalogue"
MAX_PAGE = 200
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CAPPED_HEADER = "X-Kamidesk-Export-Capped"
ROWS_HEADER = "X-Kamidesk-Export-Rows"


# --- shared with the search page ---------------------------------------------------

# One budget per agent for the box, the API and the exports (``SEARCH_RATE_LIMIT``): a
# stolen session or token cannot page through every buyer in the store.
search_limit = limiter.shared_limit(config_limit("SEARCH_RATE_LIMIT"), scope="search",
                                    key_func=per_user)


def catalogue_cache() -> CatalogueCache:
    """One catalogue per application, built on first use and refreshed every few minutes."""
    cache = current_app.extensions.get(CATALOGUE_KEY)
    if cache is None:
        cache = current_app.extensions.setdefault(CATALOGUE_KEY, CatalogueCache())
    return cache


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def request_from_args(args, default_limit: int) -> SearchRequest:
    """Query-string parameters as a search request; nonsense numbers raise ApiError(400)."""
    tags: list[str] = []
    for raw in args.getlist("tag"):
        tags.extend(t for t in raw.split(",") if t.strip())
    return SearchRequest(
        text=args.get("q", ""),
        status=args.get("status") or None, category=args.get("category") or None,
        date_from=args.get("from") or None, date_to=args.get("to") or None,
        tags=tuple(tags),
        limit=int_param(args, "limit", default_limit, 1, MAX_PAGE),
        offset=int_param(args, "offset", 0, 0, 10_000_000),
    )


def now() -> datetime:
    """The moment "昨天" and "last week" are read from (``SEARCH_CLOCK`` pins it in tests)."""
    clock = current_app.config.get("SEARCH_CLOCK")
    return clock() if clock else datetime.now(timezone.utc)


def export_cap() -> int:
    return int(current_app.config.get("SEARCH_EXPORT_CAP") or EXPORT_CAP)


def run_search(search: SearchRequest, cap: int | None = None) -> SearchResult:
    """Search the configured store as of now; bad parameters become ApiError(400)."""
    store = get_store()
    try:
        return search_orders(store, search, catalogue=catalogue_cache().get(store),
                             now=now(), tz=zone(),
                             tagged=_tagged_lookup(), cap=cap)
    except InvalidSearch as exc:
        raise ApiError(400, exc.code, str(exc)) from None


def _tagged_lookup():
    """The console's own agent tags, when the order-tags feature is installed."""
    try:
        from console.orders.tags import orders_tagged
    except ImportError:
        return None
    return orders_tagged


def order_url(order_no: str) -> str:
    return "/orders/" + quote(order_no, safe="")


def hit_json(hit: Ranked, tz: ZoneInfo) -> dict:
    s = hit.summary
    shown = summary_json(s)
    return {
        "order_no": s.order_no, "score": hit.score, "matched": list(hit.matched),
        "matched_fragments": list(hit.fragments),
        "status": s.status, "product_name": s.product_name,
        "amount_paid": shown["amount_paid"], "created_at": shown["created_at"],
        "created_local": s.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "category": s.category, "sku": s.sku, "quantity": s.quantity,
        "buyer": shown["buyer"], "recipient_account": s.recipient_account,
        "url": order_url(s.order_no),
    }


def result_json(result: SearchResult) -> dict:
    tz = zone()
    query = result.parsed.to_dict()
    query["tags"] = list(result.tags)
    return {
        "query": query,
        "results": [hit_json(h, tz) for h in result.page],
        "total": result.total,
        "took_ms": result.took_ms,
        "offset": result.request.offset, "limit": result.request.limit,
        "capped": result.capped, "mode": result.mode,
        "chips": list(result.chips),
    }


# --- routes ----------------------------------------------------------------------------

@bp.get("/orders/search")
@role_required("agent")
@search_limit
def search():
    """Orders matching whatever fragments the customer gave, best first, a page at a time."""
    found = run_search(request_from_args(request.args, current_app.config["PAGE_SIZE"]))
    return jsonify(result_json(found))


def _export_search() -> SearchResult:
    params = request.args.copy()
    params.pop("limit", None)
    params.pop("offset", None)
    wanted = replace(request_from_args(params, 1), limit=export_cap() + 1, offset=0)
    return run_search(wanted, cap=export_cap() + 1)


def _columns() -> list[str]:
    return [_("Order no."), _("Score"), _("Matched"), _("Status"), _("Product"), _("Category"),
            _("Quantity"), _("Paid"), _("Created (%(zone)s)", zone=current_app.config["TIMEZONE"]),
            _("Buyer"), _("Recipient account")]


def _cells(hit: Ranked, tz: ZoneInfo, unmasked: bool = False) -> list:
    """One export row; contacts masked as in the lists unless the role may have them."""
    s = hit.summary
    if unmasked:
        buyer = {"phone": s.buyer.phone, "email": s.buyer.email, "account": s.buyer.account}
        recipient = s.recipient_account
    else:
        shown = summary_json(s)
        buyer, recipient = shown["buyer"], shown["recipient_account"]
    return [s.order_no, hit.score if hit.matched else None, " ".join(hit.matched), s.status,
            s.product_name, s.category, s.quantity, s.amount_paid,
            s.created_at.astimezone(tz).replace(tzinfo=None),
            buyer["phone"] or buyer["email"] or buyer["account"] or "", recipient or ""]


def _audited_export(what: str, found: SearchResult, rows: int) -> bool:
    """Audit the export (query, filters, rows, masked or not); True when unmasked."""
    unmasked = export_unmasked()
    search = found.request
    audit_export(what, masked=not unmasked, rows=rows, query=search.text,
                 filters={"status": search.status, "category": search.category,
                          "from": search.date_from, "to": search.date_to,
                          "tags": list(search.tags)})
    return unmasked


def _safe(value):
    """Text a spreadsheet would run as a formula ("=HYPERLINK(...)") is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _capped_note() -> str:
    return _("Capped: only the first %(n)s results are exported; narrow the search for the rest.",
             n=f"{export_cap():,}")


def _export_headers(found: SearchResult, rows: int, ext: str) -> dict[str, str]:
    stamp = datetime.now(zone()).strftime("%Y%m%d-%H%M")
    headers = {"Content-Disposition": f'attachment; filename="orders-{stamp}.{ext}"',
               ROWS_HEADER: str(rows), "Cache-Control": "no-store"}
    if found.total > rows:
        headers[CAPPED_HEADER] = str(export_cap())
    return headers


@bp.get("/orders/search.csv")
@role_required("agent")
@search_limit
def export_csv():
    """The search results as CSV (UTF-8 with BOM for spreadsheets), streamed, capped."""
    found = _export_search()
    hits = found.page[:export_cap()]
    tz = zone()
    unmasked = _audited_export("search_csv", found, len(hits))

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        buffer.write("\ufeff")
        writer.writerow(_columns())
        for index, hit in enumerate(hits, 1):
            cells = _cells(hit, tz, unmasked)
            cells[8] = cells[8].strftime("%Y-%m-%d %H:%M:%S")
            writer.writerow([_safe("" if c is None else c) for c in cells])
            if index % 500 == 0:
                yield flush()
        if found.total > len(hits):
            writer.writerow([_capped_note()])
        yield flush()

    headers = _export_headers(found, len(hits), "csv")
    return Response(stream_with_context(lines()), mimetype="text/csv", headers=headers)


@bp.get("/orders/search.xlsx")
@role_required("agent")
@search_limit
def export_xlsx():
    """The search results as an Excel sheet (openpyxl write-only), streamed from a temp file."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    found = _export_search()
    hits = found.page[:export_cap()]
    tz = zone()
    unmasked = _audited_export("search_xlsx", found, len(hits))
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Orders"))
    sheet.freeze_panes = "A2"
    sheet.append(_columns())
    for hit in hits:
        row = []
        for index, value in enumerate(_cells(hit, tz, unmasked)):
            cell = WriteOnlyCell(sheet, value=_safe(value))
            if index == 7:
                cell.number_format = "#,##0.00"
            elif index == 8:
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            row.append(cell)
        sheet.append(row)
    if found.total > len(hits):
        sheet.append([_capped_note()])
    # closed by chunks() below, after the response has streamed it
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 2**20)  # noqa: SIM115
    book.save(spool)
    size = spool.tell()
    spool.seek(0)

    def chunks() -> Iterator[bytes]:
        with spool:
            while block := spool.read(64 * 1024):
                yield block

    headers = _export_headers(found, len(hits), "xlsx") | {"Content-Length": str(size)}
    return Response(chunks(), mimetype=XLSX_TYPE, headers=headers)
