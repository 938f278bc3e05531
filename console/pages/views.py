from flask import current_app, render_template, request
from flask_login import login_required

from console.pages import bp
from console.store import get_store


def _page_number() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.get("/")
@login_required
def index():
    """Search box first, then the latest orders, a page at a time."""
    size = current_app.config["PAGE_SIZE"]
    number = _page_number()
    page = get_store().recent(offset=(number - 1) * size, limit=size)
    pages = max(1, -(-page.total // size))
    return render_template("index.html", page=page, number=number, pages=pages)
