// The customer's chat: nothing typed is lost, nothing shown twice.
//
// - Unsent messages live in localStorage ("outbox") until the server acknowledges them,
//   so a closed tab or a dropped connection sends them later, in order.
// - Every message has a client_id; re-sending after a lost ack stores it once; the ack
//   carries the stored message (the server does not echo it to the sending connection).
// - On every (re)connect and on "resync" the page resumes from the last seq it has shown;
//   messages are keyed by id, so anything that arrives twice is shown once.
(function () {
  "use strict";
  const T = JSON.parse(document.getElementById("chat-text").textContent);
  const STORAGE_KEY = "kamidesk.chat.v1";
  const $ = (id) => document.getElementById(id);
  const list = $("messages");
  const body = $("body");
  const conn = $("conn");

  let state = load();
  let socket = null;
  let lastSeq = 0;
  let agentReadSeq = 0;
  let flushing = false;
  let typingTimer = null;
  let lastTypingSent = 0;
  const shown = new Map();     // message id -> <li>
  const pending = new Map();   // client_id -> <li>

  function load() {
    try { return Object.assign({ outbox: [] }, JSON.parse(localStorage.getItem(STORAGE_KEY)) || {}); }
    catch (e) { return { outbox: [] }; }
  }
  function save() {
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "c" + Date.now().toString(36) + Math.random().toString(36).slice(2);
  }
  function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

  // --- HTTP -------------------------------------------------------------------------------
  async function api(method, url, data, extraHeaders) {
    const headers = Object.assign({ "Accept": "application/json" }, extraHeaders || {});
    if (state.token) headers["Authorization"] = "Bearer " + state.token;
    let payload;
    if (data instanceof FormData) payload = data;
    else if (data !== undefined) { headers["Content-Type"] = "application/json"; payload = JSON.stringify(data); }
    const response = await fetch(url, { method, headers, body: payload, credentials: "omit" });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      const error = new Error((json.error && json.error.message) || T.error);
      error.code = json.error && json.error.code;
      error.status = response.status;
      throw error;
    }
    return json;
  }

  function identityFromHash() {
    const match = /identity=([^&]+)/.exec(location.hash || "");
    if (!match) return null;
    try {
      const text = atob(decodeURIComponent(match[1]).replace(/-/g, "+").replace(/_/g, "/"));
      return JSON.parse(decodeURIComponent(escape(text)));
    } catch (e) { return null; }
  }

  async function ensureSession() {
    const identity = identityFromHash();
    const sameIdentity = !identity || identity.signature === state.identity_signature;
    if (state.token && sameIdentity) {
      try {
        const answer = await api("GET", "/api/widget/conversation");
        showConversation(answer.conversation);
        return answer.orders || [];
      } catch (e) {
        if (e.status !== 401) throw e;
      }
    }
    const answer = await api("POST", "/api/widget/sessions", identity || {});
    const kept = state.conversation_id === answer.conversation_id ? state.outbox : [];
    state = { token: answer.token, conversation_id: answer.conversation_id,
              identity_signature: identity ? identity.signature : null, outbox: kept };
    save();
    showConversation(answer.conversation);
    return answer.orders || [];
  }

  // --- rendering --------------------------------------------------------------------------
  function when(iso) {
    try { return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }
    catch (e) { return ""; }
  }

  function messageElement(message) {
    const li = document.createElement("li");
    const kind = message.sender;
    li.className = "msg " + (kind === "customer" ? "mine" : kind === "system" ? "system" : "theirs");
    li.dataset.seq = message.seq || "";
    const text = document.createElement("span");
    text.className = "text";
    text.textContent = message.body || "";
    li.appendChild(text);
    if (message.attachment) li.appendChild(screenshot(message.attachment));
    if (message.extra && message.extra.card_keys) {
      message.extra.card_keys.forEach((key) => {
        const box = document.createElement("div");
        box.className = "keys";
        box.textContent = T.new_key + ": " + key.serial + " / " + key.secret;
        li.appendChild(box);
      });
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    const who = kind === "customer" ? T.you : kind === "system" ? "" : (message.sender_name || T.support);
    meta.textContent = (who ? who + " · " : "") + when(message.sent_at);
    li.appendChild(meta);
    return li;
  }

  function screenshot(attachment) {
    const img = document.createElement("img");
    img.className = "shot";
    img.alt = T.screenshot;
    fetch(attachment.url, { headers: { "Authorization": "Bearer " + state.token } })
      .then((r) => (r.ok ? r.blob() : Promise.reject()))
      .then((blob) => { img.src = URL.createObjectURL(blob); })
      .catch(() => { img.alt = T.upload_failed; });
    return img;
  }

  function place(li, seq) {
    // keep seq order even when a resumed page and live events interleave
    let before = null;
    for (const node of list.children) {
      const other = Number(node.dataset.seq || Infinity);
      if (node.classList.contains("pending") || other > seq) { before = node; break; }
    }
    list.insertBefore(li, before);
  }

  function render(message) {
    if (!message || message.conversation_id !== state.conversation_id) return;
    if (shown.has(message.id)) return;
    const li = messageElement(message);
    const waiting = message.client_id && pending.get(message.client_id);
    if (waiting) { waiting.remove(); pending.delete(message.client_id); }
    place(li, message.seq);
    shown.set(message.id, li);
    lastSeq = Math.max(lastSeq, message.seq);
    if (message.sender !== "customer") $("typing").textContent = "";
    showSeen();
    scrollDown();
    markRead();
  }

  function renderPending(item) {
    if (pending.has(item.client_id)) return;
    const li = messageElement({ sender: "customer", body: item.body, sent_at: new Date().toISOString() });
    li.classList.add("pending");
    li.querySelector(".meta").textContent = T.sending;
    pending.set(item.client_id, li);
    list.appendChild(li);
    scrollDown();
  }

  function failPending(clientId, reason) {
    const li = pending.get(clientId);
    if (!li) return;
    li.classList.remove("pending");
    li.classList.add("failed");
    li.querySelector(".meta").textContent = T.failed + " — " + reason;
    pending.delete(clientId);
  }

  function showSeen() {
    list.querySelectorAll(".msg.mine.seen-mark").forEach((n) => n.classList.remove("seen-mark"));
    const mine = [...list.querySelectorAll(".msg.mine:not(.pending)")]
      .filter((n) => Number(n.dataset.seq) <= agentReadSeq);
    const last = mine[mine.length - 1];
    list.querySelectorAll(".seen").forEach((n) => n.remove());
    if (last) {
      const seen = document.createElement("li");
      seen.className = "seen";
      seen.textContent = T.seen;
      last.after(seen);
    }
  }

  function scrollDown() { list.scrollTop = list.scrollHeight; }

  function showConversation(conversation) {
    if (!conversation) return;
    agentReadSeq = Math.max(agentReadSeq, conversation.agent_read_seq || 0);
    $("agent-name").textContent = conversation.status === "resolved" ? T.resolved :
      conversation.agent ? fill(T.agent, { name: conversation.agent }) : "";
  }

  function setConnection(kind) {
    conn.className = "conn " + kind;
    conn.textContent = T[kind];
  }

  // --- the socket ---------------------------------------------------------------------------
  function connect() {
    socket = io("/customer", { auth: { token: state.token }, transports: ["websocket", "polling"] });
    socket.on("connect", async () => {
      setConnection("online");
      await resume();
      flushOutbox();
    });
    socket.on("disconnect", () => setConnection("offline"));
    socket.on("connect_error", async (err) => {
      setConnection("offline");
      if (err && err.data && err.data.code === "invalid_token") {
        socket.close();
        state.token = null;
        save();
        await start();
      }
    });
    socket.on("message", render);
    socket.on("resync", () => resume());
    socket.on("typing", (event) => {
      $("typing").textContent = event.typing ? T.typing : "";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { $("typing").textContent = ""; }, 6000);
    });
    socket.on("read", (event) => {
      if (event.reader === "agent") { agentReadSeq = Math.max(agentReadSeq, event.seq); showSeen(); }
    });
    socket.on("conversation", (event) => showConversation(event.conversation));
    socket.on("order_update", (event) => { if (event.order) showOrder(event.order); });
  }

  async function resume() {
    for (let page = 0; page < 50 && socket.connected; page++) {
      let answer;
      try {
        answer = await socket.timeout(10000).emitWithAck("resume",
          { conversation_id: state.conversation_id, after_seq: lastSeq });
      } catch (e) { return; }
      if (!answer || answer.error) return;
      answer.messages.forEach(render);
      if (!answer.has_more) return;
    }
  }

  function markRead() {
    if (!socket || !socket.connected || document.hidden || !lastSeq) return;
    socket.emit("read", { conversation_id: state.conversation_id, seq: lastSeq });
  }

  function send(text, attachmentId) {
    const item = { client_id: uuid(), body: text };
    if (attachmentId) item.attachment_id = attachmentId;
    state.outbox.push(item);
    save();
    renderPending(item);
    flushOutbox();
  }

  async function flushOutbox() {
    if (flushing) return;
    flushing = true;
    try {
      while (state.outbox.length && socket && socket.connected) {
        const item = state.outbox[0];
        let ack;
        try {
          ack = await socket.timeout(10000).emitWithAck("message",
            Object.assign({ conversation_id: state.conversation_id }, item));
        } catch (e) {
          break;  // no answer: keep it, the next connect sends it again (same client_id)
        }
        if (ack && ack.error && ack.error.code === "rate_limited") {
          await sleep(Math.max(250, (ack.error.retry_after || 1) * 1000));
          continue;
        }
        state.outbox.shift();
        save();
        if (ack && ack.error) failPending(item.client_id, ack.error.message);
        else if (ack && ack.message) render(ack.message);  // the server does not echo to the sender
      }
    } finally {
      flushing = false;
    }
  }

  // --- composer -------------------------------------------------------------------------------
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = body.value.trim();
    if (!text) return;
    body.value = "";
    send(text);
    if (socket && socket.connected) socket.emit("typing", { conversation_id: state.conversation_id, typing: false });
  });
  body.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  body.addEventListener("input", () => {
    const now = Date.now();
    if (socket && socket.connected && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      socket.emit("typing", { conversation_id: state.conversation_id, typing: true });
    }
  });
  $("file").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (!file) return;
    const form = new FormData();
    form.append("file", file);
    try {
      const answer = await api("POST", "/api/widget/uploads", form);
      send("", answer.attachment.id);
    } catch (e) {
      const li = messageElement({ sender: "customer", body: file.name, sent_at: new Date().toISOString() });
      li.classList.add("failed");
      li.querySelector(".meta").textContent = T.upload_failed + " — " + e.message;
      list.appendChild(li);
    }
  });
  document.addEventListener("visibilitychange", markRead);
  window.addEventListener("online", () => { if (socket && !socket.connected) socket.connect(); });

  // --- orders -----------------------------------------------------------------------------------
  $("v-use-password").addEventListener("change", (event) => {
    $("v-proof").placeholder = event.target.checked ? T.password : T.phone_tail;
    $("v-proof").type = event.target.checked ? "password" : "text";
  });
  $("verify").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("v-submit");
    button.disabled = true;
    $("v-error").textContent = "";
    const data = { order_no: $("v-order").value.trim() };
    data[$("v-use-password").checked ? "search_password" : "phone_tail"] = $("v-proof").value.trim();
    try {
      const answer = await api("POST", "/api/widget/verify-order", data);
      showOrder(answer.order);
      $("verify").reset();
    } catch (e) {
      $("v-error").textContent = e.message;
    } finally {
      button.disabled = false;
    }
  });

  function showOrder(order) {
    let card = document.querySelector(`.order-card[data-order="${CSS.escape(order.order_no)}"]`);
    if (!card) {
      card = document.getElementById("order-template").content.firstElementChild.cloneNode(true);
      card.dataset.order = order.order_no;
      wireOrder(card);
      $("orders").prepend(card);
    }
    card.querySelector(".no").textContent = order.order_no;
    const status = card.querySelector(".status");
    status.textContent = order.status_label;
    status.className = "status s-" + order.status;
    card.querySelector(".product").textContent = order.product_name + " × " + order.quantity +
      " · " + order.amount_paid + " " + order.currency;
    card.querySelector(".explain").textContent = order.explanation.text;
    card.querySelector(".wait").textContent = order.explanation.expected_wait ?
      fill(T.expected, { wait: order.explanation.expected_wait }) : "";
    const steps = card.querySelector(".steps");
    steps.textContent = "";
    order.timeline.forEach((step) => {
      const li = document.createElement("li");
      li.className = step.state;
      li.textContent = step.label + (step.at ? " · " + new Date(step.at).toLocaleString() : "");
      steps.appendChild(li);
    });
    $("orders-box").open = true;
  }

  function wireOrder(card) {
    const error = card.querySelector(".form-error");
    const orderNo = () => card.dataset.order;
    const busy = async (button, work) => {
      button.disabled = true;
      error.textContent = "";
      try { await work(); } catch (e) { error.textContent = e.message; } finally { button.disabled = false; }
    };
    card.querySelector('[data-act="after-sales"]').addEventListener("click", (event) =>
      busy(event.currentTarget, () =>
        api("POST", `/api/widget/orders/${encodeURIComponent(orderNo())}/after-sales`, {})));
    card.querySelector('[data-act="edit"]').addEventListener("click", () => {
      const form = card.querySelector(".edit-form");
      form.hidden = !form.hidden;
      if (!form.hidden) form.querySelector("input").focus();
    });
    card.querySelector(".edit-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const form = event.currentTarget;
      // the fields an edit request may carry: the account to credit, else a remark
      const account = form.recipient_account.value.trim();
      const changes = account ? { recipient_account: account } : { remark: form.reason.value.trim() };
      busy(form.querySelector("button"), async () => {
        await api("POST", `/api/widget/orders/${encodeURIComponent(orderNo())}/edit-request`,
          { changes, reason: form.reason.value.trim() });
        form.reset();
        form.hidden = true;
        error.textContent = T.edit_sent;
      });
    });
    card.querySelector('[data-act="cancel"]').addEventListener("click", (event) => {
      if (!window.confirm(fill(T.confirm_cancel, { order_no: orderNo() }))) return;
      const key = uuid();
      busy(event.currentTarget, async () => {
        const answer = await api("POST", `/api/widget/orders/${encodeURIComponent(orderNo())}/cancel`,
          { reason: T.cancel_reason }, { "Idempotency-Key": key });
        if (answer.order) showOrder(answer.order);
        error.textContent = T.cancelled;
      });
    });
  }

  // --- start ------------------------------------------------------------------------------------
  async function start() {
    setConnection("connecting");
    try {
      const orders = await ensureSession();
      state.outbox.forEach(renderPending);
      connect();
      for (const orderNo of orders) {
        api("GET", `/api/widget/orders/${encodeURIComponent(orderNo)}`)
          .then((answer) => showOrder(answer.order)).catch(() => {});
      }
    } catch (e) {
      setConnection("offline");
      setTimeout(start, 5000);  // the console is unreachable: try again shortly
    }
  }
  window.kamideskChat = { state: () => state, lastSeq: () => lastSeq };
  start();
})();
