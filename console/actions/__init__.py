"""Actions on orders: edit requests, card-key reissue, refund and cancel.

``service`` holds the rules (used by the API, the pages and the customer widget);
``views`` the supervisor and queue pages, handed out lazily so importing the service
never drags in the web layer.
"""


def __getattr__(name: str):
    if name == "bp":
        from console.actions.views import bp
        return bp
    raise AttributeError(f"module 'console.actions' has no attribute {name!r}")
