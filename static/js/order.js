// Order detail: copy buttons, audited reveals, agent notes and tags.  The same-buyer page
// (orders/same_buyer.html) uses the copy and reveal parts only: it has no tags or notes.
// Values from the server are always written with textContent, never as HTML.
(() => {
  const root = document.getElementById("order-detail");
  if (!root) return;
  const i18n = JSON.parse(document.getElementById("order-i18n").textContent);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const msg = document.getElementById("od-msg");

  function say(text, bad) {
    msg.textContent = text;
    msg.classList.toggle("bad", Boolean(bad));
  }

  // One JSON call; buttons stay disabled while it is in flight so nothing is sent twice.
  async function call(method, url, body, button) {
    if (button) button.disabled = true;
    try {
      const response = await window.kamideskReauth.send(() => fetch(url, {
        method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      }));
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        const error = (data && data.error) || {};
        throw new Error(error.message || response.statusText);
      }
      return data;
    } catch (error) {
      say(`${i18n.failed} ${error.message}`, true);
      throw error;
    } finally {
      if (button) button.disabled = false;
    }
  }

  // --- copy -------------------------------------------------------------------
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) throw new Error("copy");
  }

  function copyButton(text) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.dataset.copy = text;
    button.textContent = i18n.copy;
    return button;
  }

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button.copy");
    if (!button) return;
    try {
      await copyText(button.dataset.copy);
      say(i18n.copied);
      button.classList.add("done");
      setTimeout(() => button.classList.remove("done"), 1200);
    } catch {
      say(i18n.copy_failed, true);
    }
  });

  // --- reveal (audited on the server) --------------------------------------------
  function show(element, value) {
    if (!element) return;
    element.textContent = value || "—";
    element.classList.add("revealed");
  }

  root.addEventListener("click", async (event) => {
    const button = event.target.closest("button.reveal");
    if (!button) return;
    const reason = await askReason();
    if (!reason) return;
    try {
      await reveal(button, reason);
      say(i18n.revealed);
    } catch {
      // already told the agent in call()
    }
  });

  // Every reveal says why (it goes into the audit log with the reveal).
  const reasonDialog = document.getElementById("reveal-dialog");
  function askReason() {
    return window.kamideskReauth.openDialog(reasonDialog, (form) => {
      const reason = form.querySelector('input[name="reason"]').value.trim();
      return reason || undefined;
    });
  }

  async function reveal(button, reason) {
    if (button.dataset.reveal === "contact") {
      const data = await call("POST", root.dataset.revealUrl, { what: "contact", reason }, button);
      show(document.getElementById("buyer-account"), data.account);
      show(document.getElementById("buyer-phone"), data.phone);
      show(document.getElementById("buyer-email"), data.email);
      const recipient = document.getElementById("recipient");
      if (recipient && data.recipient_account && recipient.textContent !== data.recipient_account) {
        show(recipient, data.recipient_account);
        recipient.after(" ", copyButton(data.recipient_account));
      }
      button.remove();
    } else {
      const row = button.closest("tr");
      const data = await call("POST", root.dataset.revealUrl,
        { what: "key", serial: row.dataset.serial, index: Number(row.dataset.index), reason }, button);
      const cell = row.querySelector(".secret");
      show(cell, data.secret);
      button.replaceWith(copyButton(data.secret));
    }
  }

  // --- tags ---------------------------------------------------------------------
  if (!root.dataset.tagsUrl) return;
  const tagList = document.getElementById("agent-tags");
  const tagForm = document.getElementById("tag-form");
  const tagInput = document.getElementById("tag-input");
  const suggest = document.getElementById("tag-suggest");
  const datalist = document.getElementById("tag-suggestions");

  // Tags are stored in one spelling; ``labels`` says how each reads in the agent's language.
  const tagLabel = (data, tag) => (data.labels && data.labels[tag]) || tag;

  function renderTags(data) {
    tagList.replaceChildren();
    if (!data.agent_tags.length) {
      const empty = document.createElement("li");
      empty.className = "muted empty-tags";
      empty.textContent = i18n.no_tags;
      tagList.appendChild(empty);
    }
    for (const tag of data.agent_tags) {
      const item = document.createElement("li");
      item.className = "chip";
      item.dataset.tag = tag;
      item.append(`${tagLabel(data, tag)} `);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "untag";
      remove.setAttribute("aria-label", i18n.remove.replace("%s", tagLabel(data, tag)));
      remove.textContent = "×";
      item.appendChild(remove);
      tagList.appendChild(item);
    }
    suggest.replaceChildren();
    datalist.replaceChildren();
    for (const tag of data.suggestions) {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip suggest-tag";
      chip.dataset.tag = tag;
      chip.textContent = `+ ${tagLabel(data, tag)}`;
      suggest.appendChild(chip);
      const option = document.createElement("option");
      option.value = tag;
      datalist.appendChild(option);
    }
  }

  async function addTag(tag, button) {
    if (!tag.trim()) return;
    renderTags(await call("POST", root.dataset.tagsUrl, { tag }, button));
    tagInput.value = "";
  }

  tagForm.addEventListener("submit", (event) => {
    event.preventDefault();
    addTag(tagInput.value, tagForm.querySelector("button")).catch(() => {});
  });
  suggest.addEventListener("click", (event) => {
    const chip = event.target.closest("button.suggest-tag");
    if (chip) addTag(chip.dataset.tag, chip).catch(() => {});
  });
  tagList.addEventListener("click", (event) => {
    const button = event.target.closest("button.untag");
    if (!button) return;
    const tag = button.closest("li").dataset.tag;
    const url = `${root.dataset.tagsUrl}/${encodeURIComponent(tag)}`;
    call("DELETE", url, undefined, button).then(renderTags, () => {});
  });

  // --- notes --------------------------------------------------------------------
  const noteForm = document.getElementById("note-form");
  const noteBody = document.getElementById("note-body");
  const notes = document.getElementById("notes");

  async function saveNote() {
    const body = noteBody.value.trim();
    if (!body) return;
    const data = await call("POST", root.dataset.notesUrl, { body }, noteForm.querySelector("button"));
    const empty = notes.querySelector(".empty-notes");
    if (empty) empty.remove();
    const item = document.createElement("li");
    item.className = "note";
    const meta = document.createElement("div");
    meta.className = "note-meta";
    meta.textContent = `${data.note.author} · ${i18n.just_now}`;
    const text = document.createElement("div");
    text.className = "note-body";
    text.textContent = data.note.body;
    item.append(meta, text);
    notes.prepend(item);
    noteBody.value = "";
  }

  noteForm.addEventListener("submit", (event) => {
    event.preventDefault();
    saveNote().catch(() => {});
  });
  noteBody.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      saveNote().catch(() => {});
    }
  });
})();
