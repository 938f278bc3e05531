"""Live chat: the customer widget, the agent inbox, and the Socket.IO protocol between them."""
from flask import Blueprint

bp = Blueprint("chat", __name__)


@bp.record
def _attach_realtime(state) -> None:
    """Each app gets its own Socket.IO server, so handlers are attached per registration."""
    from console.chat.proactive import connect_signals
    from console.chat.sockets import register_namespaces

    register_namespaces()
    connect_signals()


from console.chat import views  # noqa: E402,F401
from console.chat.widget import widget_bp  # noqa: E402,F401
