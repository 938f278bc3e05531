"""Socket.IO attacked through a real server process with real python-socketio clients:
foreign origins, oversized frames, sockets that outlive a sign-out or a disabled account,
and a customer flooding one conversation from several sockets."""
from __future__ import annotations

import re
import threading
import uuid

import pytest
import requests
import socketio

from tests.chat_server import ChatClient, ChatServer, prepare_instance, wait_until

pytestmark = pytest.mark.slow

USERS = {"alice": "agent", "bob": "agent", "carol": "agent", "dave": "agent", "root": "admin"}
SHOP = "https://shop.example"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    folder = tmp_path_factory.mktemp("socket-security")
    tokens = prepare_instance(folder, USERS)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KAMIDESK_SECURE_COOKIES", "0")  # requests sends no Secure cookie over http
        env.setenv("KAMIDESK_WIDGET_ORIGINS", SHOP)
        env.setenv("KAMIDESK_CHAT_MESSAGE_LIMIT", "5 per minute")
        server = ChatServer(folder).start()
    yield server, tokens
    server.stop()


class Watched:
    """A raw client that notes when the server drops its namespace."""

    def __init__(self, url: str, namespace: str = "/agent", transport: str = "websocket",
                 **connect) -> None:
        self.sio = socketio.Client(reconnection=False)
        self.dropped = threading.Event()
        self.sio.on("disconnect", lambda *_: self.dropped.set(), namespace=namespace)
        self.namespace = namespace
        self.sio.connect(url, namespaces=[namespace], transports=[transport],
                         wait_timeout=10, **connect)

    def call(self, event: str, data: dict):
        return self.sio.call(event, data, namespace=self.namespace, timeout=10)

    def close(self) -> None:
        self.sio.disconnect()


def sign_in(server: ChatServer, name: str) -> requests.Session:
    session = requests.Session()
    page = session.get(server.url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    session.post(server.url + "/login", data={"name": name, "password": f"{name}-pass-1",
                                              "csrf_token": token}, timeout=10)
    assert session.cookies.get("kamidesk"), "signed in"
    return session


def cookie_header(session: requests.Session) -> dict:
    return {"Cookie": f"kamidesk={session.cookies.get('kamidesk')}"}


def test_a_connection_from_an_origin_not_on_the_list_is_refused(live):
    server, tokens = live
    auth = {"token": tokens["alice"]}
    # polling: the WebSocket client would add its own Origin header beside ours
    with pytest.raises(socketio.exceptions.ConnectionError):
        Watched(server.url, auth=auth, transport="polling",
                headers={"Origin": "https://evil.example"})
    for origin in (SHOP, server.url):
        client = Watched(server.url, auth=auth, transport="polling", headers={"Origin": origin})
        assert client.sio.connected
        client.close()


def test_a_frame_over_64_kb_closes_the_connection_and_stores_nothing(live):
    server, _ = live
    session = server.widget_session()
    client = ChatClient(server.url, "/customer", session["token"]).connect()
    cid = session["conversation_id"]
    with pytest.raises(Exception):
        client.call("message", {"conversation_id": cid, "client_id": "big",
                                "body": "x" * (100 * 1024)}, timeout=5)
    wait_until(lambda: not client.connected, message="the oversized frame closing the socket")
    again = ChatClient(server.url, "/customer", session["token"]).connect()
    assert again.resume(cid, 0) == []
    again.disconnect()


def test_disabling_an_agent_disconnects_their_sockets_at_once(live):
    server, tokens = live
    agent = Watched(server.url, auth={"token": tokens["bob"]})
    answer = requests.post(server.url + "/api/users/bob/disable", timeout=10,
                           headers={"Authorization": f"Bearer {tokens['root']}"})
    assert answer.status_code == 200 and answer.json()["user"]["active"] is False
    # Engine.IO pings every 25 s: a drop inside 5 s can only be the server's push
    assert agent.dropped.wait(5), "the disabled agent's socket is still open"
    with pytest.raises(socketio.exceptions.ConnectionError):
        Watched(server.url, auth={"token": tokens["bob"]})


def test_sign_out_disconnects_the_cookie_socket_and_the_old_cookie_is_dead(live):
    server, _ = live
    browser = sign_in(server, "carol")
    old = cookie_header(browser)
    agent = Watched(server.url, headers=old)
    page = browser.get(server.url + "/", timeout=10).text
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
    browser.post(server.url + "/logout", data={"csrf_token": csrf}, timeout=10)
    assert agent.dropped.wait(5), "the signed-out agent's socket is still open"
    with pytest.raises(socketio.exceptions.ConnectionError):
        Watched(server.url, headers=old)


def test_an_event_after_the_session_ended_elsewhere_is_refused(live):
    """The push can miss a process (no shared queue); every event checks again."""
    server, _ = live
    browser = sign_in(server, "dave")
    agent = Watched(server.url, headers=cookie_header(browser))
    from console import create_app
    from console.auth.models import end_all_sessions
    from console.extensions import db
    from console.people import find_user
    app = create_app({"INSTANCE": str(server.folder), "SECRET_KEY": "x",
                      "DATABASE_URL": f"sqlite:///{server.folder / 'console.db'}",
                      "STORE_URL": f"sqlite:///{server.folder / 'store.db'}"})
    with app.app_context():
        end_all_sessions(db.session, find_user("dave").id)  # no socket push from here
        db.session.commit()
        db.engine.dispose()
    answer = None
    try:
        answer = agent.call("presence", {"status": "online"})
    except socketio.exceptions.TimeoutError:
        pass
    assert answer is None or answer["error"]["code"] == "session_ended"
    assert agent.dropped.wait(5)


def test_one_customer_is_limited_across_sockets(live):
    server, _ = live
    session = server.widget_session()
    cid = session["conversation_id"]
    first = ChatClient(server.url, "/customer", session["token"]).connect()
    second = ChatClient(server.url, "/customer", session["token"]).connect()
    answers = [client.send(cid, f"hello {i}", client_id=uuid.uuid4().hex)
               for i in range(3) for client in (first, second)]
    assert ["error" in a for a in answers] == [False] * 5 + [True]
    assert answers[-1]["error"]["code"] == "rate_limited"
    for client in (first, second):
        client.disconnect()
