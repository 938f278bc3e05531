// Stuck-order alerts for agents (on /alerts and the supervisor page): the list from
// /api/alerts/stuck-orders, refreshed when the watcher announces "stuck_orders" over
// Socket.IO (/agent) and every minute; each row offers the customer's chat.
(function () {
  "use strict";
  const table = document.getElementById("stuck-table");
  if (!table) return;
  const T = JSON.parse(table.dataset.text);
  const rows = document.getElementById("stuck-rows");
  const count = document.getElementById("alerts-count");
  const flash = document.getElementById("alerts-flash");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text == null ? "" : String(text);
    return td;
  }
  const minutes = (s) => T.minutes.replace("{n}", Math.round(s / 60));

  function chatCell(alert) {
    const td = document.createElement("td");
    if (alert.conversation_id) {
      const a = document.createElement("a");
      a.href = "/inbox#c=" + alert.conversation_id;
      a.textContent = T.open_chat;
      a.className = "open-chat";
      td.appendChild(a);
    } else {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "start-chat";
      b.textContent = T.start_chat;
      b.addEventListener("click", () => startChat(alert.order_no, b));
      td.appendChild(b);
    }
    return td;
  }

  async function startChat(orderNo, button) {
    button.disabled = true;
    try {
      const r = await fetch("/api/orders/" + encodeURIComponent(orderNo) + "/conversation", {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: "{}" });
      const json = await r.json();
      if (!r.ok) throw new Error((json.error && json.error.message) || T.error);
      window.location.href = "/inbox#c=" + json.conversation.id;
    } catch (e) {
      button.disabled = false;
      if (flash) flash.textContent = e.message;
    }
  }

  async function load() {
    const r = await fetch("/api/alerts/stuck-orders", { credentials: "same-origin",
      headers: { "Accept": "application/json" } });
    if (!r.ok) return;
    const json = await r.json();
    rows.replaceChildren();
    if (count) count.textContent = String(json.total);
    if (!json.alerts.length) {
      const tr = document.createElement("tr");
      const td = cell(T.none, "muted");
      td.colSpan = 8;
      tr.appendChild(td);
      rows.appendChild(tr);
    }
    for (const alert of json.alerts) {
      const tr = document.createElement("tr");
      tr.dataset.order = alert.order_no;
      const no = document.createElement("td");
      no.className = "mono";
      const link = document.createElement("a");
      link.href = "/orders/" + encodeURIComponent(alert.order_no);
      link.textContent = alert.order_no;
      no.appendChild(link);
      tr.append(no, cell(alert.status), cell(alert.category), cell(alert.supplier),
        cell([alert.operator, alert.region].filter(Boolean).join(" · ")),
        cell(minutes(alert.stuck_for_s), "num"), cell(minutes(alert.threshold_s), "num"),
        chatCell(alert));
      rows.appendChild(tr);
    }
    table.dataset.loaded = String(Date.now());
  }

  load();
  setInterval(load, 60000);
  window.KamideskAlerts = { reload: load };
  // the supervisor page has one socket of its own and calls reload on "stuck_orders"
  if (window.io && !document.getElementById("supervisor-page")) {
    const socket = io("/agent", { transports: ["websocket", "polling"] });
    socket.on("stuck_orders", load);
    socket.on("connect", load);
  }
})();
