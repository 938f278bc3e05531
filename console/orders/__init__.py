"""Order-story logic for the order detail screen: plain-words status, timeline, proof checks.

The pure modules (explain, timeline, proof_check) import nothing from Flask, so this
package hands out its ``orders`` blueprint lazily: importing ``console.orders.explain``
from anywhere never drags in the web layer (and cannot close an import cycle).
"""


def __getattr__(name: str):
    if name == "bp":
        from console.orders.views import bp
        return bp
    raise AttributeError(f"module 'console.orders' has no attribute {name!r}")
