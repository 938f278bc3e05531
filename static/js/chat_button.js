// "After-sales chat" on an order: open (or create) its conversation, then go to the inbox.
(function () {
  "use strict";
  const button = document.getElementById("chat-button");
  if (!button) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    const csrf = document.querySelector('meta[name="csrf-token"]');
    try {
      const response = await fetch(button.dataset.url, {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
      });
      const answer = await response.json();
      if (!response.ok) throw new Error((answer.error && answer.error.message) || response.status);
      window.location.href = answer.url;
    } catch (e) {
      button.disabled = false;
      window.alert(button.dataset.failed + " " + e.message);
    }
  });
})();
