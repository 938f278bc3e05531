// Asking for the password again: refunds, reissues, cancels, approvals and reveals answer
// 403 "reauth_required" when the password was typed too long ago.  send() shows the
// password dialog, confirms it with POST /api/reauth and repeats the request once.
window.kamideskReauth = (() => {
  "use strict";
  const dialog = document.getElementById("reauth-dialog");
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function ask() {
    if (!dialog) return Promise.resolve(false);
    const form = dialog.querySelector("form");
    const input = dialog.querySelector('input[name="password"]');
    const error = dialog.querySelector(".reauth-error");
    form.reset();
    error.textContent = "";
    dialog.showModal();
    input.focus();
    return new Promise((resolve) => {
      async function submit(event) {
        event.preventDefault();
        const response = await fetch(dialog.dataset.url, {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json",
                     "X-CSRFToken": csrf },
          body: JSON.stringify({ password: input.value }),
        }).catch(() => null);
        const data = response ? await response.json().catch(() => ({})) : {};
        if (response && response.ok) return done(true);
        error.textContent = (data.error && data.error.message) || dialog.dataset.failed;
        input.select();
      }
      function done(ok) {
        form.removeEventListener("submit", submit);
        dialog.removeEventListener("cancel", cancel);
        cancelButton.removeEventListener("click", cancel);
        dialog.close();
        resolve(ok);
      }
      function cancel(event) {
        if (event) event.preventDefault();
        done(false);
      }
      const cancelButton = dialog.querySelector(".reauth-cancel");
      form.addEventListener("submit", submit);
      dialog.addEventListener("cancel", cancel);
      cancelButton.addEventListener("click", cancel);
    });
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

  return { send, ask };
})();
