"""A real HTTP server around a test app, and the sign-in a browser test starts with."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from tests.conftest import PASSWORDS


def with_users(app):
    """Create the standard test users (agent, supervisor, admin) in the app's console DB."""
    from console.people import save_user
    with app.app_context():
        for name, password in PASSWORDS.items():
            save_user(name, name, password)
    return app


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve ``app`` on a free loopback port in a thread; yields the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
