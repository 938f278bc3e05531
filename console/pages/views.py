from flask import Blueprint, current_app, render_template, request
from flask_login import login_required
from werkzeug.datastructures import MultiDict

from adapters.base import StoreUnavailable
from console.api.search import hit_json, request_from_args, run_search, zone
from console.errors import ApiError
from console.pages.search import page_context

bp = Blueprint("pages", __name__)


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.get("/")
@login_required
def index():
    """Search box first; with an empty box the latest orders, a page at a time.

    The page renders the same search the box runs as you type (``search.js``
    asks ``/api/orders/search``), so a shared or reloaded URL shows the same
    results and the page works without JavaScript.
    """
    size = current_app.config["PAGE_SIZE"]
    number = _page_number()
    args = request.args.to_dict(flat=False)
    args.pop("page", None)
    args["limit"], args["offset"] = [str(size)], [str((number - 1) * size)]
    error, found, status = None, None, 200
    try:
        found = run_search(request_from_args(MultiDict(args), size))
    except ApiError as exc:
        error, status = exc.message, 400
    except StoreUnavailable as exc:  # the banner says so; the rest of the console works
        error, status = exc.message, 503
    hits = [hit_json(h, zone()) for h in found.page] if found else []
    return render_template("index.html", **page_context(found, hits, number, size, error)), \
        status


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every page whatever the page links; answer with the
    console's icon (SVG) instead of a 404 in every log line."""
    return current_app.send_static_file("favicon.svg"), 200, {
        "Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"}
