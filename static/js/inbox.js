// The agent inbox: queue on the left, conversation in the middle, the customer's orders on
// the right.  Live over Socket.IO (/agent); the transcript resumes from its last seq on every
// reconnect or "resync", and messages are keyed by id so none is shown twice.
(function () {
  "use strict";
  const root = document.getElementById("inbox");
  if (!root) return;
  const DATA = JSON.parse(document.getElementById("inbox-data").textContent);
  const T = DATA.text;
  const me = { id: Number(root.dataset.me), role: root.dataset.role };
  const $ = (id) => document.getElementById(id);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const canned = DATA.canned.map((shortcut, i) =>
    ({ shortcut, id: DATA.canned_ids[i], title: DATA.canned_titles[i] }));

  let socket = null;
  let view = "open";
  let offset = 0;
  const conversations = new Map();     // id -> conversation json (current view)
  const unread = new Set();
  let current = null;                  // { id, lastSeq, shown: Map, pending: Map, conversation }
  let customerReadSeq = 0;
  const outbox = [];                   // agent messages waiting for an ack
  let flushing = false;
  let typingTimer = null;
  let lastTypingSent = 0;
  let audio = null;

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const uuid = () => (window.crypto && crypto.randomUUID ? crypto.randomUUID() :
    "a" + Date.now().toString(36) + Math.random().toString(36).slice(2));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function api(method, url, data) {
    const headers = { "Accept": "application/json", "X-CSRFToken": csrf };
    if (data !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, { method, headers, credentials: "same-origin",
      body: data === undefined ? undefined : JSON.stringify(data) });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error((json.error && json.error.message) || T.error);
    return json;
  }

  // --- queue ------------------------------------------------------------------------------
  function belongs(c) {
    if (!c.opened_at) return false;
    if (view === "resolved") return c.status === "resolved";
    if (c.status === "resolved") return false;
    if (view === "queue") return !c.assignee;
    if (view === "mine") return c.assignee && c.assignee.id === me.id;
    return true;
  }

  function ordered() {
    const rows = [...conversations.values()];
    if (view === "resolved") return rows.sort((a, b) => (b.resolved_at || "").localeCompare(a.resolved_at || ""));
    return rows.sort((a, b) =>
      (a.assignee ? 1 : 0) - (b.assignee ? 1 : 0) ||
      (a.waiting_since ? 0 : 1) - (b.waiting_since ? 0 : 1) ||
      (a.waiting_since || "").localeCompare(b.waiting_since || "") ||
      (b.last_message_at || "").localeCompare(a.last_message_at || "") ||
      a.id - b.id);
  }

  function label(c) {
    const who = c.customer.user_id || c.customer.email || c.customer.phone;
    return who ? who : fill(T.anonymous, { id: c.id });
  }

  function waitText(since) {
    const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(since)) / 1000));
    if (seconds < 60) return seconds + "s";
    if (seconds < 3600) return Math.floor(seconds / 60) + "m " + (seconds % 60) + "s";
    return Math.floor(seconds / 3600) + "h " + Math.floor((seconds % 3600) / 60) + "m";
  }

  function renderQueue() {
    const list = $("queue-list");
    list.textContent = "";
    for (const c of ordered()) {
      const li = document.createElement("li");
      li.dataset.id = c.id;
      if (current && current.id === c.id) li.classList.add("current");
      if (unread.has(c.id)) li.classList.add("unread");
      const button = document.createElement("button");
      button.type = "button";
      const row1 = document.createElement("span");
      row1.className = "row1";
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = label(c);
      row1.appendChild(who);
      if (c.waiting_since && c.status !== "resolved") {
        const wait = document.createElement("span");
        wait.className = "wait";
        wait.dataset.since = c.waiting_since;
        wait.textContent = waitText(c.waiting_since);
        row1.appendChild(wait);
      }
      // The preview says who wrote it; the assignee sits on its own line, so a customer's
      // words never read as if the assigned agent had written them.
      const row2 = document.createElement("span");
      row2.className = "preview";
      if (c.last_preview && c.last_preview_sender) {
        const from = document.createElement("span");
        from.className = "from from-" + c.last_preview_sender;
        from.textContent = c.last_preview_sender === "customer" ? T.from_customer : T.from_agent;
        row2.appendChild(from);
        row2.appendChild(document.createTextNode(" "));
      }
      row2.appendChild(document.createTextNode(c.last_preview || ""));
      const row3 = document.createElement("span");
      row3.className = "row3";
      const tag = document.createElement("span");
      tag.className = "tag" + (c.assignee ? "" : " unassigned");
      tag.textContent = c.status === "resolved" ? T.resolved :
        c.assignee ? fill(T.assigned_to, { name: c.assignee.id === me.id ? T.you : c.assignee.name }) :
        T.unassigned;
      row3.appendChild(tag);
      if (c.attached_order_no) {
        const order = document.createElement("span");
        order.className = "order mono";
        order.textContent = c.attached_order_no;
        row3.appendChild(order);
      }
      button.appendChild(row1);
      button.appendChild(row2);
      button.appendChild(row3);
      button.addEventListener("click", () => openConversation(c.id));
      li.appendChild(button);
      list.appendChild(li);
    }
    $("queue-empty").hidden = conversations.size > 0;
  }

  function tickWaits() {
    document.querySelectorAll("#queue-list .wait").forEach((span) => {
      span.textContent = waitText(span.dataset.since);
      span.classList.toggle("long", Date.now() - Date.parse(span.dataset.since) > 5 * 60 * 1000);
    });
  }

  async function loadQueue(reset = true) {
    if (reset) { offset = 0; conversations.clear(); }
    const answer = await api("GET", `/api/chat/conversations?view=${view}&limit=50&offset=${offset}`);
    answer.results.forEach((c) => conversations.set(c.id, c));
    offset += answer.results.length;
    $("more").hidden = offset >= answer.total;
    renderQueue();
  }

  function onConversation(event) {
    const c = event.conversation;
    if (belongs(c)) conversations.set(c.id, c); else conversations.delete(c.id);
    const isCurrent = current && current.id === c.id;
    if (isCurrent) showHeader(c);
    if (event.reason === "message" && event.message && event.message.sender === "customer") {
      if (!isCurrent || document.hidden) {
        if (!isCurrent) unread.add(c.id);
        notify(c, event.message);
      }
    } else if (event.reason === "assigned" && c.assignee && c.assignee.id === me.id &&
               (!current || current.id !== c.id)) {
      notify(c, { body: fill(T.assigned_to, { name: T.you }) });
    }
    renderQueue();
  }

  // --- notifications ------------------------------------------------------------------------
  function notify(c, message) {
    beep();
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    const n = new Notification(T.new_message + " · " + label(c), { body: message.body || "", tag: "kd-" + c.id });
    n.onclick = () => { window.focus(); openConversation(c.id); n.close(); };
  }

  function beep() {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.08, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + 0.25);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.25);
    } catch (e) { /* no audio: the desktop notification is enough */ }
  }

  if ("Notification" in window && Notification.permission === "default") {
    $("notify-on").hidden = false;
    $("notify-on").addEventListener("click", async () => {
      await Notification.requestPermission();
      $("notify-on").hidden = true;
    });
  }

  // --- the conversation pane ------------------------------------------------------------------
  function showHeader(c) {
    current.conversation = c;
    $("pane-title").textContent = label(c) + (c.customer.identity_verified ? " ✓" : "");
    const parts = [c.status === "resolved" ? T.resolved :
      c.assignee ? fill(T.assigned_to, { name: c.assignee.id === me.id ? T.you : c.assignee.name }) : T.unassigned];
    if (c.attached_order_no) parts.push(c.attached_order_no);
    if (c.waiting_since) parts.push(fill(T.waiting, { time: waitText(c.waiting_since) }));
    $("pane-sub").textContent = parts.join(" · ");
    $("take").hidden = !!(c.assignee && c.assignee.id === me.id) || c.status === "resolved";
    $("resolve").hidden = c.status === "resolved";
    $("reopen").hidden = c.status !== "resolved";
    customerReadSeq = Math.max(customerReadSeq, c.customer_read_seq || 0);
    showSeen();
  }

  async function openConversation(id) {
    if (current && current.id === id) { $("reply").focus(); return; }
    if (current && socket && socket.connected) socket.emit("leave", { conversation_id: current.id });
    current = { id, lastSeq: 0, shown: new Map(), pending: new Map(), conversation: null };
    customerReadSeq = 0;
    unread.delete(id);
    history.replaceState(null, "", "#c=" + id);
    $("transcript").textContent = "";
    $("typing").textContent = "";
    $("pane-empty").hidden = true;
    ["pane-head", "transcript", "composer"].forEach((n) => { $(n).hidden = false; });
    renderQueue();
    await join();
    loadSide(id);
    $("reply").focus();
  }

  async function join() {
    if (!current || !socket || !socket.connected) return;
    const id = current.id;
    let answer;
    try {
      answer = await socket.timeout(10000).emitWithAck("join", { conversation_id: id, after_seq: current.lastSeq });
    } catch (e) { return; }
    if (!current || current.id !== id) return;
    if (answer.error) { $("pane-sub").textContent = answer.error.message; return; }
    showHeader(answer.conversation);
    answer.messages.forEach(render);
    if (answer.has_more) await resume();
  }

  async function resume() {
    for (let page = 0; page < 50 && current && socket && socket.connected; page++) {
      const id = current.id;
      let answer;
      try {
        answer = await socket.timeout(10000).emitWithAck("resume", { conversation_id: id, after_seq: current.lastSeq });
      } catch (e) { return; }
      if (!current || current.id !== id || !answer || answer.error) return;
      answer.messages.forEach(render);
      if (!answer.has_more) return;
    }
  }

  function messageElement(m) {
    const li = document.createElement("li");
    const mine = m.sender === "agent" || m.sender === "note";
    li.className = "msg " + (m.sender === "customer" ? "theirs" : m.sender === "system" ? "system" : "mine") +
      (m.sender === "note" ? " note" : "");
    if (m.sender === "note") li.dataset.noteLabel = T.note;
    li.dataset.seq = m.seq || "";
    const text = document.createElement("span");
    text.textContent = m.body || "";
    li.appendChild(text);
    if (m.attachment) {
      const link = document.createElement("a");
      link.href = m.attachment.url;
      link.target = "_blank";
      link.rel = "noopener";
      const img = document.createElement("img");
      img.className = "shot";
      img.src = m.attachment.url;
      img.alt = "screenshot";
      link.appendChild(img);
      li.appendChild(link);
    }
    const meta = document.createElement("span");
    meta.className = "meta";
    const who = m.sender === "customer" ? T.customer : m.sender === "system" ? "" :
      (mine && m.sender_id === me.id ? T.you : m.sender_name || "");
    meta.textContent = (who ? who + " · " : "") + (m.sent_at ? new Date(m.sent_at).toLocaleTimeString() : "");
    li.appendChild(meta);
    return li;
  }

  function render(m) {
    if (!current || m.conversation_id !== current.id || current.shown.has(m.id)) return;
    if (m.seq > current.lastSeq + 1 && current.lastSeq > 0) {
      // a gap: something was missed in transit; fetch it rather than show things out of order
      resume();
    }
    const li = messageElement(m);
    const waiting = m.client_id && current.pending.get(m.client_id);
    if (waiting) { waiting.remove(); current.pending.delete(m.client_id); }
    const list = $("transcript");
    let before = null;
    for (const node of list.children) {
      if (node.classList.contains("pending") || Number(node.dataset.seq || Infinity) > m.seq) { before = node; break; }
    }
    list.insertBefore(li, before);
    current.shown.set(m.id, li);
    current.lastSeq = Math.max(current.lastSeq, m.seq);
    if (m.sender === "customer") $("typing").textContent = "";
    list.scrollTop = list.scrollHeight;
    showSeen();
    markRead();
  }

  function showSeen() {
    const list = $("transcript");
    list.querySelectorAll(".seen").forEach((n) => n.remove());
    const mine = [...list.querySelectorAll(".msg.mine:not(.note):not(.pending)")]
      .filter((n) => Number(n.dataset.seq) <= customerReadSeq);
    const last = mine[mine.length - 1];
    if (last) {
      const seen = document.createElement("li");
      seen.className = "seen";
      seen.textContent = T.seen;
      last.after(seen);
    }
  }

  function markRead() {
    if (!current || !socket || !socket.connected || document.hidden || !current.lastSeq) return;
    socket.emit("read", { conversation_id: current.id, seq: current.lastSeq });
  }

  async function loadSide(id) {
    const verified = $("verified-orders");
    const likely = $("likely-orders");
    let answer;
    try { answer = await api("GET", `/api/chat/conversations/${id}`); } catch (e) { return; }
    if (!current || current.id !== id) return;
    verified.textContent = "";
    likely.textContent = "";
    answer.verified_orders.forEach((o) => verified.appendChild(orderCard(o, o.explanation)));
    answer.likely_orders.forEach((o) => likely.appendChild(orderCard(o, "")));
    if (!answer.verified_orders.length) verified.innerHTML = '<p class="hint">—</p>';
    if (!answer.likely_orders.length) {
      likely.innerHTML = '<p class="hint">—</p>';
      if (answer.store_error) likely.firstChild.textContent = T.store_error + " " + answer.store_error;
    }
  }

  function orderCard(o, explanation) {
    const div = document.createElement("div");
    div.className = "order";
    const link = document.createElement("a");
    link.href = "/orders/" + encodeURIComponent(o.order_no);
    link.className = "mono";
    link.textContent = o.order_no;
    const status = document.createElement("span");
    status.className = "status s-" + o.status;
    status.textContent = o.status_label || o.status;
    const first = document.createElement("p");
    first.append(link, " ", status);
    const second = document.createElement("p");
    second.textContent = (o.product_name || "") + " · " + (o.amount_paid || "");
    div.append(first, second);
    if (explanation) {
      const third = document.createElement("p");
      third.className = "hint";
      third.textContent = explanation;
      div.appendChild(third);
    }
    return div;
  }

  // --- sending ---------------------------------------------------------------------------------
  function send(text, note) {
    if (!current) return;
    const item = { conversation_id: current.id, client_id: uuid(), body: text, note: !!note, tries: 0 };
    const li = messageElement({ sender: note ? "note" : "agent", body: text, sender_id: me.id });
    li.classList.add("pending");
    current.pending.set(item.client_id, li);
    $("transcript").appendChild(li);
    $("transcript").scrollTop = $("transcript").scrollHeight;
    outbox.push(item);
    flush();
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    try {
      while (outbox.length && socket && socket.connected) {
        const item = outbox[0];
        let ack;
        try {
          ack = await socket.timeout(10000).emitWithAck("message",
            { conversation_id: item.conversation_id, client_id: item.client_id, body: item.body, note: item.note });
        } catch (e) {
          if (++item.tries < 5) continue;  // same client_id: a late first copy is not stored twice
          ack = { error: { message: T.error } };
        }
        if (ack.error && ack.error.code === "rate_limited") { await sleep((ack.error.retry_after || 1) * 1000); continue; }
        outbox.shift();
        if (!ack.error && ack.message) render(ack.message);  // no echo to the sender
        if (ack.error && current) {
          const li = current.pending.get(item.client_id);
          if (li) {
            li.classList.remove("pending");
            li.classList.add("failed");
            li.querySelector(".meta").textContent = T.failed + " — " + ack.error.message;
            current.pending.delete(item.client_id);
          }
        }
      }
    } finally { flushing = false; }
  }

  const reply = $("reply");
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = reply.value.trim();
    if (!text) return;
    reply.value = "";
    hideSuggest();
    send(text, $("note").checked);
    $("note").checked = false;
    $("composer").classList.remove("note-mode");
  });
  $("note").addEventListener("change", () => $("composer").classList.toggle("note-mode", $("note").checked));

  // canned replies: "/" + shortcut, Tab or Enter to expand
  let suggestions = [];
  let chosen = 0;
  function hideSuggest() { $("suggest").hidden = true; suggestions = []; }
  function showSuggest() {
    const match = /^\/([\w-]*)$/.exec(reply.value);
    if (!match) { hideSuggest(); return; }
    suggestions = canned.filter((c) => c.shortcut.startsWith(match[1].toLowerCase()));
    const box = $("suggest");
    box.textContent = "";
    suggestions.forEach((c, i) => {
      const li = document.createElement("li");
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", String(i === chosen));
      li.textContent = "/" + c.shortcut + (c.title ? " — " + c.title : "");
      li.addEventListener("mousedown", (e) => { e.preventDefault(); chosen = i; expand(); });
      box.appendChild(li);
    });
    box.hidden = suggestions.length === 0;
  }
  async function expand() {
    const pick = suggestions[chosen];
    if (!pick || !current) return;
    hideSuggest();
    try {
      const answer = await api("POST", `/api/chat/canned/${pick.id}/render`, { conversation_id: current.id });
      reply.value = answer.body;
    } catch (e) { reply.value = ""; }
    reply.focus();
  }
  reply.addEventListener("input", () => {
    chosen = 0;
    showSuggest();
    const now = Date.now();
    if (current && socket && socket.connected && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      socket.emit("typing", { conversation_id: current.id, typing: true });
    }
  });
  reply.addEventListener("keydown", (event) => {
    if (suggestions.length) {
      if (event.key === "Tab" || (event.key === "Enter" && !event.shiftKey)) { event.preventDefault(); expand(); return; }
      if (event.key === "ArrowDown") { event.preventDefault(); chosen = (chosen + 1) % suggestions.length; showSuggest(); return; }
      if (event.key === "ArrowUp") { event.preventDefault(); chosen = (chosen + suggestions.length - 1) % suggestions.length; showSuggest(); return; }
      if (event.key === "Escape") { hideSuggest(); return; }
    }
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    } else if (event.key === "Escape") {
      reply.blur();
    }
  });

  // --- actions -----------------------------------------------------------------------------------
  async function act(button, path, data) {
    if (!current) return;
    button.disabled = true;
    try {
      const answer = await api("POST", `/api/chat/conversations/${current.id}/${path}`, data);
      showHeader(answer.conversation);
      onConversation({ reason: path, conversation: answer.conversation });
    } catch (e) {
      $("pane-sub").textContent = e.message;
    } finally { button.disabled = false; }
  }
  $("take").addEventListener("click", (e) => act(e.currentTarget, "take"));
  $("resolve").addEventListener("click", (e) => act(e.currentTarget, "resolve"));
  $("reopen").addEventListener("click", (e) => act(e.currentTarget, "reopen"));
  $("assign-to").addEventListener("change", (e) => {
    const target = Number(e.currentTarget.value);
    e.currentTarget.value = "";
    if (target) act(e.currentTarget, "assign", { agent_id: target });
  });

  document.querySelectorAll(".tabs button").forEach((tab) => tab.addEventListener("click", () => {
    document.querySelectorAll(".tabs button").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
    view = tab.dataset.view;
    loadQueue();
  }));
  $("more").addEventListener("click", () => loadQueue(false));

  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (event.altKey && !event.ctrlKey && !event.metaKey) {
      const key = event.key.toLowerCase();
      if (key === "t") { event.preventDefault(); $("take").click(); }
      else if (key === "r") { event.preventDefault(); (current && current.conversation && current.conversation.status === "resolved" ? $("reopen") : $("resolve")).click(); }
      else if (key === "n") { event.preventDefault(); $("note").checked = !$("note").checked; $("note").dispatchEvent(new Event("change")); reply.focus(); }
      return;
    }
    if (typing || event.ctrlKey || event.metaKey) return;
    if (event.key === "j" || event.key === "k") {
      const rows = ordered();
      if (!rows.length) return;
      const index = current ? rows.findIndex((c) => c.id === current.id) : -1;
      const next = rows[Math.min(rows.length - 1, Math.max(0, index + (event.key === "j" ? 1 : -1)))];
      event.preventDefault();
      openConversation(next.id);
    } else if (event.key === "r" && current) {
      event.preventDefault();
      reply.focus();
    }
  });
  document.addEventListener("visibilitychange", markRead);

  // --- presence ------------------------------------------------------------------------------------
  $("presence").addEventListener("change", (event) => {
    if (socket && socket.connected) socket.emit("presence", { status: event.currentTarget.value }, showPresence);
  });
  function showPresence(state) {
    if (!state || state.error) return;
    $("my-dot").className = "presence-dot " + state.presence;
  }

  // --- the socket -------------------------------------------------------------------------------
  function setConnection(kind) {
    $("conn").className = "conn " + kind;
    $("conn").textContent = T[kind];
  }

  function connect() {
    socket = io("/agent", { transports: ["websocket", "polling"] });
    socket.on("connect", async () => {
      setConnection("online");
      socket.emit("presence", { status: $("presence").value }, showPresence);
      await loadQueue().catch(() => {});
      await join();
      flush();
    });
    socket.on("disconnect", () => setConnection("offline"));
    socket.on("connect_error", () => setConnection("offline"));
    socket.on("resync", async () => { await loadQueue().catch(() => {}); await resume(); });
    socket.on("message", render);
    socket.on("conversation", onConversation);
    socket.on("typing", (event) => {
      if (!current || event.conversation_id !== current.id) return;
      $("typing").textContent = event.typing ?
        (event.sender === "customer" ? T.customer_typing : fill(T.typing, { name: event.name || "" })) : "";
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { $("typing").textContent = ""; }, 6000);
    });
    socket.on("read", (event) => {
      if (current && event.conversation_id === current.id && event.reader === "customer") {
        customerReadSeq = Math.max(customerReadSeq, event.seq);
        showSeen();
      }
    });
    socket.on("order_update", (event) => { if (current && event.conversation_id === current.id) loadSide(current.id); });
    setInterval(() => { if (socket.connected) socket.emit("presence", {}, showPresence); }, 60000);
  }

  const cannedForm = $("canned-form");
  if (cannedForm) {
    cannedForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = cannedForm.querySelector("button");
      button.disabled = true;
      try {
        await api("POST", "/api/chat/canned", Object.fromEntries(new FormData(cannedForm)));
        window.location.reload();
      } catch (e) {
        cannedForm.querySelector(".form-error").textContent = e.message;
        button.disabled = false;
      }
    });
  }

  setInterval(tickWaits, 1000);
  connect();
  const wanted = /#c=(\d+)/.exec(location.hash);
  if (wanted) {
    const id = Number(wanted[1]);
    const tryOpen = () => (socket.connected ? openConversation(id) : setTimeout(tryOpen, 200));
    tryOpen();
  }
  window.kamideskInbox = { current: () => current, conversations };
})();
