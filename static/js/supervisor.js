// The supervisor dashboard: figures for the chosen range from the JSON API, charts with
// Chart.js, sortable tables, CSV links for the same range, and a live panel kept fresh by
// Socket.IO (/agent): queue and presence events trigger a reload of /api/supervisor/live,
// and the longest wait ticks every second in between.
(function () {
  "use strict";
  const page = document.getElementById("supervisor-page");
  if (!page) return;
  const T = JSON.parse(document.getElementById("supervisor-data").textContent).text;
  const $ = (id) => document.getElementById(id);
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
  const charts = {};
  let agentRows = [];
  let sortKey = "first_response.median";
  let sortDir = -1;
  let live = null;

  async function api(method, url, data) {
    const headers = { "Accept": "application/json", "X-CSRFToken": csrf };
    if (data !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(url, { method, headers, credentials: "same-origin",
      body: data === undefined ? undefined : JSON.stringify(data) });
    const json = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((json.error && json.error.message) || T.error);
    return json;
  }

  // --- formatting -------------------------------------------------------------------------
  function duration(s) {
    if (s === null || s === undefined) return "–";
    s = Math.round(s);
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m " + String(s % 60).padStart(2, "0") + "s";
    return Math.floor(s / 3600) + "h " + String(Math.floor((s % 3600) / 60)).padStart(2, "0") + "m";
  }
  const pct = (r) => (r === null || r === undefined ? "–" : (r * 100).toFixed(1) + "%");
  const get = (obj, path) => path.split(".").reduce((o, k) => (o == null ? o : o[k]), obj);

  function td(text, cls) {
    const cell = document.createElement("td");
    if (cls) cell.className = cls;
    cell.textContent = text == null ? "" : String(text);
    return cell;
  }
  function fillBody(table, rows, render) {
    const body = $(table).querySelector("tbody");
    body.replaceChildren();
    if (!rows.length) {
      const tr = document.createElement("tr");
      const cell = td(T.none, "muted");
      cell.colSpan = $(table).querySelectorAll("thead th").length;
      tr.appendChild(cell);
      body.appendChild(tr);
    }
    for (const row of rows) body.appendChild(render(row));
  }
  function tr(...cells) {
    const row = document.createElement("tr");
    row.append(...cells);
    return row;
  }

  // --- range ------------------------------------------------------------------------------
  function isoDay(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
      String(d.getDate()).padStart(2, "0");
  }
  function range() {
    const q = new URLSearchParams();
    if ($("sv-from").value) q.set("from", $("sv-from").value);
    if ($("sv-to").value) q.set("to", $("sv-to").value);
    return q;
  }
  function withRange(url, extra) {
    const q = range();
    for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
    return url + (url.includes("?") ? "&" : "?") + q.toString();
  }
  function initRange() {
    const params = new URLSearchParams(location.search);
    const today = new Date();
    const week = new Date(today.getTime() - 6 * 86400000);
    $("sv-from").value = params.get("from") || isoDay(week);
    $("sv-to").value = params.get("to") || isoDay(today);
    $("sv-range").addEventListener("submit", (e) => {
      e.preventDefault();
      history.replaceState(null, "", "?" + range().toString());
      loadFigures();
    });
  }
  function exportLinks() {
    for (const a of document.querySelectorAll("a.sv-export")) {
      a.href = withRange("/api/supervisor/export/" + a.dataset.table + ".csv");
    }
  }

  // --- figures ----------------------------------------------------------------------------
  function renderOverall(answer) {
    const sla = answer.sla;
    $("sla-fr").textContent = pct(sla.first_response.rate);
    $("sla-res").textContent = pct(sla.resolution.rate);
    $("sla-reopen").textContent = pct(answer.overall.reopen.rate);
    $("sla-count").textContent = String(answer.conversations);
    const rows = ["assignment", "first_response", "resolution", "handle"].map((m) => [m, answer.overall[m]]);
    fillBody("overall-table", rows, ([m, f]) =>
      tr(td(T[m]), td(f.count, "num"), td(duration(f.median), "num"), td(duration(f.p90), "num")));
  }

  function renderAgents() {
    const rows = agentRows.slice().sort((a, b) => {
      const x = get(a, sortKey), y = get(b, sortKey);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * sortDir;
    });
    fillBody("agents-table", rows, (r) => {
      const row = tr(td(r.label), td(r.conversations, "num"), td(duration(r.assignment.median), "num"),
        td(duration(r.first_response.median), "num"), td(duration(r.first_response.p90), "num"),
        td(duration(r.resolution.median), "num"), td(duration(r.handle.median), "num"),
        td(pct(r.reopen.rate), "num"), td(pct(r.sla.breach_rate), "num"));
      row.dataset.agent = r.label;
      return row;
    });
    for (const th of $("agents-table").querySelectorAll("th[data-sort]")) {
      th.setAttribute("aria-sort", th.dataset.sort === sortKey ? (sortDir > 0 ? "ascending" : "descending") : "none");
    }
  }

  function chart(id, config) {
    if (!window.Chart) return;
    if (charts[id]) charts[id].destroy();
    charts[id] = new window.Chart($(id), config);
  }

  function renderTrend(days) {
    const minutes = (s) => (s === null ? null : Math.round(s / 6) / 10);
    chart("trend-chart", { type: "line", data: { labels: days.map((d) => d.label), datasets: [
      { label: T.fr_median, data: days.map((d) => minutes(d.first_response.median)), borderColor: "#2f6fde", spanGaps: true },
      { label: T.fr_p90, data: days.map((d) => minutes(d.first_response.p90)), borderColor: "#9bb8ee", spanGaps: true },
      { label: T.res_median, data: days.map((d) => minutes(d.resolution.median)), borderColor: "#d9822b", spanGaps: true },
    ] }, options: { animation: false, maintainAspectRatio: false } });
  }

  function renderHours(hours, orderHours) {
    const orders = new Map((orderHours || []).map((h) => [h.key, h.orders]));
    chart("hours-chart", { type: "bar", data: { labels: hours.map((h) => h.label), datasets: [
      { label: T.chats, data: hours.map((h) => h.conversations), backgroundColor: "#2f6fde", yAxisID: "y" },
      { label: T.orders, data: hours.map((h) => orders.get(String(h.key).padStart(2, "0")) || 0),
        backgroundColor: "#c9d6ee", yAxisID: "y1" },
    ] }, options: { animation: false, maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, position: "left" }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } } });
  }

  function renderBreaches(answer) {
    $("breach-count").textContent = String(answer.total);
    fillBody("breach-table", answer.breaches, (b) => {
      const link = document.createElement("a");
      link.href = b.url;
      link.textContent = "#" + b.conversation_id;
      const first = td("");
      first.appendChild(link);
      return tr(first, td(new Date(b.opened_at).toLocaleString()), td(b.agent || "–"),
        td(duration(b.first_response_s), "num"), td(duration(b.resolution_s), "num"),
        td(b.breached.map((m) => T[m]).join(", ")));
    });
  }

  function renderAnalytics(answer) {
    $("analytics-note").hidden = answer.available;
    const rates = (label) => (r) => tr(td(label(r)), td(r.orders, "num"),
      td(pct(r.after_sales_rate), "num"), td(pct(r.refund_rate), "num"));
    fillBody("products-table", answer.products.slice(0, 20), rates((r) => r.key));
    fillBody("suppliers-table", answer.suppliers, rates((r) => (r.key === "-" ? T.own_stock : r.key)));
    fillBody("tickets-table", answer.tickets, (r) => tr(td(r.key), td(r.tickets, "num")));
  }

  async function loadFigures() {
    exportLinks();
    const [agents, hours, days, breaches, analytics] = await Promise.all([
      api("GET", withRange("/api/metrics/response-times", { group: "agent" })),
      api("GET", withRange("/api/metrics/response-times", { group: "hour" })),
      api("GET", withRange("/api/metrics/response-times", { group: "day" })),
      api("GET", withRange("/api/metrics/sla-breaches")),
      api("GET", withRange("/api/supervisor/analytics")),
    ]);
    renderOverall(agents);
    agentRows = agents.rows;
    renderAgents();
    renderTrend(days.rows);
    renderHours(hours.rows, analytics.hours);
    renderBreaches(breaches);
    renderAnalytics(analytics);
    page.dataset.loaded = String(Date.now());
  }

  function initSorting() {
    for (const th of $("agents-table").querySelectorAll("th[data-sort]")) {
      th.tabIndex = 0;
      const sort = () => {
        sortDir = th.dataset.sort === sortKey ? -sortDir : (th.dataset.sort === "label" ? 1 : -1);
        sortKey = th.dataset.sort;
        renderAgents();
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", (e) => { if (e.key === "Enter") sort(); });
    }
  }

  // --- live panel -------------------------------------------------------------------------
  function renderLive() {
    if (!live) return;
    $("live-waiting").textContent = String(live.waiting);
    $("live-unassigned").textContent = String(live.unassigned);
    const since = live.waiting_since ? (Date.now() - Date.parse(live.waiting_since)) / 1000 : null;
    $("live-longest").textContent = since === null ? "–" : duration(Math.max(0, since));
    $("live-online").textContent = String(live.agents_online);
    $("live-load").textContent = live.load.active + " / " + live.load.capacity;
    fillBody("live-agents", live.agents, (a) => {
      const row = tr(td(a.name), td(T[a.presence] || a.presence), td(a.active, "num"), td(a.limit, "num"));
      row.dataset.agent = a.name;
      row.className = "presence-" + a.presence;
      return row;
    });
  }
  async function loadLive() {
    live = await api("GET", "/api/supervisor/live");
    renderLive();
    $("live-panel").dataset.updated = String(Date.now());
  }
  let liveTimer = null;
  function soon() {  // many queue events in a burst: one reload
    clearTimeout(liveTimer);
    liveTimer = setTimeout(() => loadLive().catch(() => {}), 250);
  }

  // --- incidents --------------------------------------------------------------------------
  function incidentCard(incident) {
    const box = document.createElement("article");
    box.className = "sv-incident";
    box.dataset.incident = incident.id;
    const h = document.createElement("h3");
    h.textContent = fill(T.incident_title, { dimension: T[incident.dimension] || incident.dimension,
      value: incident.value, bad: incident.bad_orders, total: incident.window_orders,
      share: pct(incident.share), baseline: pct(incident.baseline) });
    const meta = document.createElement("p");
    meta.className = "muted";
    meta.textContent = fill(T.opened, { time: new Date(incident.opened_at).toLocaleString() }) +
      (incident.notified_at ? " · " + fill(T.notified, { n: incident.notified_chats, text: incident.notice }) : "") +
      (incident.affected_customers ? " · " + fill(T.unreached, { missing: incident.customers_without_chat,
        customers: incident.affected_customers }) : "");
    const form = document.createElement("form");
    form.className = "sv-notify";
    const text = document.createElement("textarea");
    text.rows = 2;
    text.maxLength = 1000;
    text.required = true;
    text.placeholder = T.notice_placeholder;
    text.setAttribute("aria-label", T.notify);
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "primary";
    send.textContent = T.notify;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn";
    close.textContent = T.close;
    form.append(text, send, close);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      send.disabled = true;
      try {
        const answer = await api("POST", "/api/incidents/" + incident.id + "/notify", { message: text.value });
        $("incident-flash").textContent = fill(T.sent, { n: answer.sent.chats });
        await loadIncidents();
      } catch (err) {
        $("incident-flash").textContent = err.message;
        send.disabled = false;
      }
    });
    close.addEventListener("click", async () => {
      try {
        await api("POST", "/api/incidents/" + incident.id + "/close");
        $("incident-flash").textContent = T.closed;
        await loadIncidents();
      } catch (err) {
        $("incident-flash").textContent = err.message;
      }
    });
    box.append(h, meta, form);
    return box;
  }
  async function loadIncidents() {
    const answer = await api("GET", "/api/incidents?state=open");
    const box = $("incidents");
    box.replaceChildren();
    if (!answer.incidents.length) {
      const p = document.createElement("p");
      p.className = "muted";
      p.textContent = T.no_incident;
      box.appendChild(p);
    }
    for (const incident of answer.incidents) box.appendChild(incidentCard(incident));
  }

  // --- start ------------------------------------------------------------------------------
  initRange();
  initSorting();
  loadFigures().catch((e) => { $("incident-flash").textContent = e.message; });
  loadIncidents().catch(() => {});
  loadLive().catch(() => {});
  setInterval(renderLive, 1000);
  setInterval(() => loadLive().catch(() => {}), 30000);
  if (window.io) {
    const socket = io("/agent", { transports: ["websocket", "polling"] });
    socket.on("connect", () => { $("live-conn").textContent = T.online; soon(); });
    socket.on("disconnect", () => { $("live-conn").textContent = T.offline; });
    socket.on("conversation", soon);
    socket.on("presence", soon);
    socket.on("incident", () => loadIncidents().catch(() => {}));
    socket.on("stuck_orders", () => window.KamideskAlerts && window.KamideskAlerts.reload());
  }
})();
