"""Security headers on every answer: a Content-Security-Policy with no inline script or
style, no framing except the chat widget by the shop's own pages, no MIME sniffing, and a
referrer that never carries a path (order numbers, search text) to another site.

The templates keep to this: scripts and styles come from ``static/`` only, page data
travels in ``<script type="application/json">`` blocks (data, never executed) and event
handlers are bound in the JS files.
"""
from __future__ import annotations

from flask import Flask, Response, request

WIDGET_PATHS = frozenset({"/chat"})  # the page the widget frames

BASE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "media-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
}


def policy(frame_ancestors: str) -> str:
    return "; ".join(f"{name} {value}" for name, value in
                     {**BASE_POLICY, "frame-ancestors": frame_ancestors}.items())


def init_headers(app: Flask) -> None:
    everywhere = policy("'none'")
    widget = policy(" ".join(("'self'", *app.config.get("WIDGET_ORIGINS", ()))))

    @app.after_request
    def security_headers(response: Response) -> Response:
        embeddable = request.path in WIDGET_PATHS
        response.headers.setdefault("Content-Security-Policy", widget if embeddable
                                    else everywhere)
        if not embeddable:  # the widget relies on frame-ancestors (X-Frame-Options has no list)
            response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security",
                                        "max-age=31536000; includeSubDomains")
        return response
