// Asking for the password again: refunds, reissues, cancels, approvals and reveals answer
// 403 "reauth_required" when the password was typed too long ago.  send() shows the
// password dialog, confirms it with POST /api/reauth and repeats the request once.
window.kamideskReauth = (() => {
  "use strict";
  const dialog = document.getElementById("reauth-dialog");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Opens a <dialog> holding a form; resolves with what submit() returns (a value other
  // than undefined closes it), or null when cancelled (Esc or the .cancel button).
  function openDialog(box, submit) {
    const form = box.querySelector("form");
    const cancelButton = box.querySelector(".cancel");
    form.reset();
    box.showModal();
    const first = form.querySelector("input");
    if (first) first.focus();
    return new Promise((resolve) => {
      function done(value) {
        form.removeEventListener("submit", onSubmit);
        box.removeEventListener("cancel", cancel);
        cancelButton.removeEventListener("click", cancel);
        box.close();
        resolve(value);
      }
      async function onSubmit(event) {
        event.preventDefault();
        const value = await submit(form);
        if (value !== undefined) done(value);
      }
      function cancel(event) {
        if (event) event.preventDefault();
        done(null);
      }
      form.addEventListener("submit", onSubmit);
      box.addEventListener("cancel", cancel);
      cancelButton.addEventListener("click", cancel);
    });
  }

  async function ask() {
    if (!dialog) return false;
    const error = dialog.querySelector(".reauth-error");
    error.textContent = "";
    const ok = await openDialog(dialog, async (form) => {
      const input = form.querySelector('input[name="password"]');
      const response = await fetch(dialog.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json",
                   "X-CSRFToken": csrf },
        body: JSON.stringify({ password: input.value }),
      }).catch(() => null);
      if (response && response.ok) return true;
      const data = response ? await response.json().catch(() => ({})) : {};
      error.textContent = (data.error && data.error.message) || dialog.dataset.failed;
      input.select();
      return undefined;
    });
    return Boolean(ok);
  }

  async function needsPassword(response) {
    if (response.status !== 403) return false;
    const data = await response.clone().json().catch(() => ({}));
    return Boolean(data.error && data.error.code === "reauth_required");
  }

  // request: a function returning a fetch() promise; called again after the password.
  async function send(request) {
    const response = await request();
    if (!(await needsPassword(response))) return response;
    return (await ask()) ? request() : response;
  }

  return { send, ask, openDialog };
})();
