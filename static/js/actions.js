// Actions on orders: one <dialog> for refund, reissue, cancel, edit requests and approvals.
// Each opening of the dialog gets one Idempotency-Key, so a double click or a retry after a
// network error replays the first answer instead of acting twice.
(() => {
  "use strict";
  const dialog = document.getElementById("action-dialog");
  if (!dialog || dialog.dataset.ready) return;
  dialog.dataset.ready = "1";
  const i18n = JSON.parse(document.getElementById("actions-i18n").textContent);
  const form = document.getElementById("action-form");
  const title = document.getElementById("ad-title");
  const summary = document.getElementById("ad-summary");
  const result = document.getElementById("ad-result");
  const keysBox = document.getElementById("ad-keys");
  const confirmButton = document.getElementById("ad-confirm");
  const closeButton = document.getElementById("ad-close");
  const amountInput = document.getElementById("ad-amount");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const FLASH = "kamidesk-action-flash";
  let state = null;  // {kind, data, key, busy, finished}

  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (_, name) => (values[name] ?? ""));

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function showParts(kind, data) {
    dialog.querySelectorAll(".ad-part").forEach((part) => {
      const wanted = part.dataset.for.split(" ");
      let show = wanted.includes(kind);
      if (wanted.includes("manual")) show = kind === "refund" && data.manual === "1";
      part.hidden = !show;
    });
  }

  function refundAmount() {
    const scope = form.querySelector('input[name="scope"]:checked').value;
    return scope === "full" ? state.data.left : amountInput.value.trim();
  }

  function describe() {
    const { kind, data } = state;
    const values = {
      order: data.order, currency: data.currency || "", amount: data.amount || "",
      requester: data.requester || "", kind: data.actionKind || "", changes: data.changes || "",
    };
    if (kind === "refund") values.amount = refundAmount() || "?";
    summary.textContent = fill(i18n["sum_" + kind] || "", values);
    confirmButton.textContent = kind === "refund"
      ? fill(i18n.confirm_refund, values) : (i18n[kind] || i18n.confirm);
  }

  function open(button) {
    const kind = button.dataset.kind;
    state = { kind, data: { ...button.dataset }, key: newKey(), busy: false, finished: false };
    form.reset();
    amountInput.disabled = true;
    result.textContent = "";
    result.className = "ad-result";
    keysBox.hidden = true;
    keysBox.replaceChildren();
    confirmButton.hidden = false;
    confirmButton.disabled = false;
    closeButton.textContent = i18n.close;
    title.textContent = i18n[kind] || kind;
    showParts(kind, state.data);
    if (kind === "refund") {
      document.getElementById("ad-left").textContent = `${state.data.left} ${state.data.currency}`;
      const panel = document.getElementById("actions-panel");
      const limit = panel ? panel.dataset.approvalAbove : "";
      document.getElementById("ad-approval").textContent = limit ? fill(i18n.approval, { limit }) : "";
    }
    describe();
    dialog.showModal();
    const first = dialog.querySelector(".ad-part:not([hidden]) input:not([disabled]):not([type=radio]), .ad-part:not([hidden]) textarea");
    (first || confirmButton).focus();
  }

  function fail(message) {
    result.textContent = message;
    result.className = "ad-result bad";
  }

  function request() {
    const { kind, data } = state;
    const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
    const order = encodeURIComponent(data.order || "");
    switch (kind) {
      case "refund": {
        const amount = refundAmount();
        const number = Number(amount);
        if (!/^\d+(\.\d{1,2})?$/.test(amount) || number <= 0 || number > Number(data.left)) {
          return fail(fill(i18n.bad_amount, { left: data.left }));
        }
        if (!value("reason")) return fail(i18n.need_reason);
        if (data.manual === "1" && !value("reference")) return fail(i18n.need_reference);
        const body = { amount: number.toFixed(2), reason: value("reason") };
        if (data.manual === "1") body.reference = value("reference");
        return [`/api/orders/${order}/refund`, body];
      }
      case "reissue":
      case "cancel":
        if (!value("reason")) return fail(i18n.need_reason);
        return [`/api/orders/${order}/${kind}`, { reason: value("reason") }];
      case "edit": {
        const changes = {};
        for (const name of ["recipient_account", "sku", "remark"]) {
          if (value(name)) changes[name] = value(name);
        }
        if (value("quantity")) changes.quantity = Number(value("quantity"));
        if (!Object.keys(changes).length) return fail(i18n.need_change);
        if (!value("reason")) return fail(i18n.need_reason);
        return ["/api/edit-requests", { order_no: data.order, changes, reason: value("reason") }];
      }
      case "approve-edit":
        return [`/api/edit-requests/${data.id}/approve`, {}];
      case "reject-edit":
        if (!value("note")) return fail(i18n.need_note);
        return [`/api/edit-requests/${data.id}/reject`, { note: value("note") }];
      case "approve-action":
        return [`/api/actions/${data.id}/approve`, {}];
      case "reject-action":
        return [`/api/actions/${data.id}/reject`, { note: value("note") }];
    }
    return undefined;
  }

  function showKeys(keys) {
    const heading = document.createElement("p");
    heading.textContent = i18n.new_key;
    keysBox.append(heading);
    for (const key of keys) {
      const line = document.createElement("p");
      line.className = "mono ad-new-key";
      line.textContent = `${key.serial}  ${key.secret}`;
      keysBox.append(line);
    }
    keysBox.hidden = false;
  }

  function finish(message, reload) {
    state.finished = true;
    confirmButton.hidden = true;
    closeButton.textContent = i18n.done_reload;
    result.textContent = message;
    if (reload) {
      sessionStorage.setItem(FLASH, message);
      closeButton.focus();
    }
  }

  async function submit(event) {
    event.preventDefault();
    if (!state || state.busy || state.finished) return;
    result.textContent = "";
    result.className = "ad-result";
    const prepared = request();
    if (!prepared) return;
    const [url, body] = prepared;
    state.busy = true;
    confirmButton.disabled = true;
    const label = confirmButton.textContent;
    confirmButton.textContent = i18n.working;
    let response;
    let data = {};
    try {
      response = await window.kamideskReauth.send(() => fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "Idempotency-Key": state.key, "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      }));
      data = await response.json().catch(() => ({}));
    } catch (error) {
      state.busy = false;
      confirmButton.disabled = false;
      confirmButton.textContent = label;
      return fail(i18n.network);
    }
    state.busy = false;
    confirmButton.textContent = label;
    if (response.ok) {
      const message = data.message || "";
      const fresh = data.action && data.action.new_keys;
      finish(message, true);
      if (fresh && fresh.length) showKeys(fresh);
      else window.location.reload();
      return;
    }
    const error = data.error || {};
    let message = error.message || response.statusText;
    if (error.offers && error.offers.length) {
      message += " " + i18n.offers + " " + error.offers.map((o) => i18n["offer_" + o] || o).join(", ");
    }
    if (data.request || data.action) {
      // the request was decided (refused or failed): the outcome is final, show it and reload
      finish(message, true);
      result.className = "ad-result bad";
      return;
    }
    confirmButton.disabled = false;
    fail(message);
  }

  form.addEventListener("submit", submit);
  form.addEventListener("input", () => state && describe());
  form.addEventListener("change", (event) => {
    if (event.target.name === "scope") {
      amountInput.disabled = event.target.value !== "partial";
      if (!amountInput.disabled) amountInput.focus();
    }
    if (state) describe();
  });
  closeButton.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    if (state && state.finished) window.location.reload();
    state = null;
  });
  document.addEventListener("click", (event) => {
    const button = event.target.closest(".ap-open");
    if (button && !button.disabled) open(button);
  });

  const flash = sessionStorage.getItem(FLASH);
  const slot = document.getElementById("ap-flash");
  if (flash && slot) {
    slot.textContent = flash;
    sessionStorage.removeItem(FLASH);
  }
})();
