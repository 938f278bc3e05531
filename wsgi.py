"""Entry point for gunicorn: ``gunicorn -k gevent -w 1 wsgi:app`` (see README)."""
import os

if os.environ.get("KAMIDESK_ASYNC_MODE") == "gevent":
    from gevent import monkey

    monkey.patch_all()

from console import create_app  # noqa: E402
from console.runtime import settle_for_serving  # noqa: E402

app = create_app()
settle_for_serving(app.config)
