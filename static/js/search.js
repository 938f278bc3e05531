// The search screen: results as you type, keyboard to move and open, chips to undo.
// The page is rendered by the server first (and works without this file); this script
// asks /api/orders/search after a short pause and redraws the same table.
(() => {
  "use strict";
  const root = document.getElementById("search-page");
  if (!root) return;

  const DEBOUNCE_MS = 250;
  const $ = (id) => document.getElementById(id);
  const box = $("q");
  const form = $("search-form");
  const table = $("orders");
  const tbody = table.tBodies[0];
  const chips = $("chips");
  const statusLine = $("search-status");
  const empty = $("empty");
  const pager = $("pager");
  const title = $("result-title");
  const took = $("took");
  const filters = { status: $("f-status"), category: $("f-category"), from: $("f-from"), to: $("f-to") };
  const t = JSON.parse($("search-i18n").textContent);
  const pageSize = Number(root.dataset.pageSize) || 50;

  let timer = null;
  let inFlight = null;
  let lastParams = currentParams().toString();
  let selected = -1;

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));

  function currentParams() {
    const p = new URLSearchParams();
    const q = box.value.trim();
    if (q) p.set("q", box.value);
    for (const [name, input] of Object.entries(filters)) {
      if (input && input.value) p.set(name, input.value);
    }
    const tag = $("f-tag");
    if (tag && tag.value) p.set("tag", tag.value);
    return p;
  }

  // --- fetching ----------------------------------------------------------------------
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(run, DEBOUNCE_MS);
  }

  async function run(force = false) {
    clearTimeout(timer);
    const params = currentParams();
    const key = params.toString();
    if (!force && key === lastParams) return;
    lastParams = key;
    if (inFlight) inFlight.abort();
    const controller = new AbortController();
    inFlight = controller;
    table.setAttribute("aria-busy", "true");
    statusLine.classList.remove("bad");
    statusLine.textContent = t.searching;
    params.set("limit", String(pageSize));
    try {
      const response = await fetch(root.dataset.api + "?" + params.toString(), {
        headers: { Accept: "application/json" }, credentials: "same-origin", signal: controller.signal,
      });
      const data = await response.json();
      if (controller !== inFlight) return;
      if (!response.ok) throw new Error((data.error && data.error.message) || response.statusText);
      render(data, key);
      statusLine.textContent = "";
    } catch (error) {
      if (error.name === "AbortError") return;
      statusLine.classList.add("bad");
      statusLine.textContent = fill(t.failed, { message: error.message });
    } finally {
      if (controller === inFlight) {
        inFlight = null;
        table.removeAttribute("aria-busy");
      }
    }
  }

  // --- drawing -----------------------------------------------------------------------
  function cell(tr, text, className) {
    const td = tr.insertCell();
    if (className) td.className = className;
    if (text !== undefined && text !== null) td.textContent = text;
    return td;
  }

  function row(o) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.dataset.order = o.order_no;
    tr.dataset.href = o.url;
    const link = document.createElement("a");
    link.href = o.url;
    link.tabIndex = -1;
    link.textContent = o.order_no;
    cell(tr, null, "mono").append(link);
    cell(tr, o.created_local);
    cell(tr, o.product_name + (o.quantity > 1 ? " ×" + o.quantity : ""));
    cell(tr, o.amount_paid, "num");
    const status = document.createElement("span");
    status.className = "status s-" + o.status;
    status.textContent = t.statuses[o.status] || o.status;
    cell(tr).append(status);
    cell(tr, o.buyer.phone || o.buyer.email || o.buyer.account || "");
    const matched = cell(tr, null, "matched");
    if (o.matched.length) {
      const score = document.createElement("span");
      score.className = "score";
      score.textContent = Math.round(o.score);
      matched.append(score);
      for (const m of o.matched) {
        const tag = document.createElement("span");
        tag.className = "m";
        tag.textContent = t.matches[m] || m;
        matched.append(" ", tag);
      }
    }
    return tr;
  }

  function render(data, key) {
    tbody.replaceChildren(...data.results.map(row));
    selected = -1;
    table.hidden = data.results.length === 0;
    empty.hidden = data.results.length > 0;
    empty.textContent = data.mode === "latest" ? t.empty : data.mode === "nothing" ? t.nothing : t.noResults;
    const total = data.total.toLocaleString();
    if (data.mode === "latest") {
      title.textContent = t.latest + " ";
      const small = document.createElement("small");
      small.textContent = fill(t.inStore, { total });
      title.append(small);
    } else {
      title.textContent = fill(data.total === 1 ? t.result : t.results, { total }) + " ";
      if (data.capped) {
        const small = document.createElement("small");
        small.textContent = fill(t.capped, { total });
        title.append(small);
      }
    }
    took.textContent = fill(t.took, { ms: data.took_ms });
    renderChips(data.chips);
    renderPager(data, key);
    for (const [id, url] of [["export-csv", root.dataset.exportCsv], ["export-xlsx", root.dataset.exportXlsx]]) {
      $(id).href = url + (key ? "?" + key : "");
    }
    history.replaceState(null, "", location.pathname + (key ? "?" + key : ""));
  }

  function renderChips(list) {
    chips.replaceChildren(...list.map((chip) => {
      const li = document.createElement("li");
      li.className = "chip chip-" + chip.kind;
      Object.assign(li.dataset, { kind: chip.kind, label: chip.label, source: chip.source, param: chip.param || "" });
      const kind = document.createElement("span");
      kind.className = "chip-kind";
      kind.textContent = t.chipKinds[chip.kind] || chip.kind;
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "chip-remove";
      remove.setAttribute("aria-label", fill(t.remove, { label: chip.label }));
      remove.textContent = "×";
      li.append(kind, " " + chip.label + " ", remove);
      return li;
    }));
  }

  function renderPager(data, key) {
    const pages = Math.max(1, Math.ceil(data.total / pageSize));
    pager.hidden = data.results.length === 0;
    pager.replaceChildren();
    const href = (n) => location.pathname + "?" + (key ? key + "&" : "") + "page=" + n;
    const latest = data.mode === "latest";
    if (pages > 1) {
      const span = document.createElement("span");
      span.textContent = fill(t.page, { n: 1, m: pages });
      const next = document.createElement("a");
      next.rel = "next";
      next.href = href(2);
      next.textContent = (latest ? t.older : t.next) + " →";
      pager.append(span, next);
    }
  }

  // --- chips -------------------------------------------------------------------------
  function removeText(label) {
    const text = box.value;
    let at = text.indexOf(label);
    if (at < 0) at = text.toLowerCase().indexOf(label.toLowerCase());
    if (at < 0) return;
    box.value = (text.slice(0, at) + " " + text.slice(at + label.length)).replace(/\s+/g, " ").trim();
  }

  chips.addEventListener("click", (event) => {
    const button = event.target.closest(".chip-remove");
    if (!button) return;
    const chip = button.closest(".chip");
    if (chip.dataset.source === "filter") {
      for (const name of chip.dataset.param.split(",")) {
        const input = filters[name] || (name === "tag" && $("f-tag"));
        if (input) input.value = "";
      }
    } else {
      removeText(chip.dataset.label);
    }
    chip.remove();
    box.focus();
    run();
  });

  // --- keyboard ----------------------------------------------------------------------
  function rows() {
    return Array.from(tbody.rows);
  }

  function select(index) {
    const all = rows();
    if (!all.length) return;
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach((tr, i) => {
      tr.classList.toggle("selected", i === selected);
      tr.setAttribute("aria-selected", i === selected ? "true" : "false");
    });
    all[selected].scrollIntoView({ block: "nearest" });
  }

  function open(tr) {
    if (tr && tr.dataset.href) location.assign(tr.dataset.href);
  }

  // Chinese input methods compose pinyin first: search the characters, not the letters.
  let composing = false;
  box.addEventListener("compositionstart", () => { composing = true; });
  box.addEventListener("compositionend", () => { composing = false; schedule(); });
  box.addEventListener("input", () => { if (!composing) schedule(); });
  box.addEventListener("keydown", (event) => {
    if (event.isComposing || composing) return;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      select(selected + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      select(selected - 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (selected >= 0 && currentParams().toString() === lastParams) open(rows()[selected]);
      else run(true);
    } else if (event.key === "Escape" && box.value) {
      event.preventDefault();
      box.value = "";
      run();
    }
  });

  tbody.addEventListener("keydown", (event) => {
    const tr = event.target.closest("tr");
    if (!tr) return;
    const all = rows();
    const index = all.indexOf(tr);
    if (event.key === "Enter") {
      event.preventDefault();
      open(tr);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = all[index + (event.key === "ArrowDown" ? 1 : -1)];
      if (next) next.focus();
      else if (event.key === "ArrowUp") box.focus();
    }
  });

  tbody.addEventListener("click", (event) => {
    if (event.target.closest("a")) return;
    open(event.target.closest("tr"));
  });

  for (const input of Object.values(filters)) {
    if (input) input.addEventListener("change", () => run());
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    run(true);
  });

  // "/" from anywhere on this page goes back to the box.
  document.addEventListener("keydown", (event) => {
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
    if (event.key === "/" && !typing) {
      event.preventDefault();
      box.focus();
      box.select();
    }
  });
})();
