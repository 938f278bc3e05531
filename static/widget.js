// Kamidesk chat widget: one tag on the shop's page opens the support chat in a panel.
//
//   <script src="https://support.example.com/static/widget.js" async
//           data-label="Chat with us"
//           data-user-id="..." data-email="..." data-phone="..." data-ts="..." data-signature="..."></script>
//
// The data-* identity is optional; when present it must be signed by the shop's server
// (HMAC-SHA256 with KAMIDESK_WIDGET_SECRET, see README "Live chat").  It is handed to the
// chat in the frame's URL fragment, which browsers never send to any server.
(function () {
  "use strict";
  const script = document.currentScript;
  if (!script || window.__kamideskWidget) return;
  window.__kamideskWidget = true;
  const origin = new URL(script.src, location.href).origin;
  const data = script.dataset;

  function identityFragment() {
    if (!data.signature) return "";
    const identity = { user_id: data.userId || null, email: data.email || null,
                       phone: data.phone || null, ts: data.ts, signature: data.signature };
    const json = unescape(encodeURIComponent(JSON.stringify(identity)));
    return "#identity=" + encodeURIComponent(btoa(json).replace(/\+/g, "-").replace(/\//g, "_"));
  }

  const button = document.createElement("button");
  button.type = "button";
  button.textContent = data.label || "Chat";
  button.setAttribute("aria-expanded", "false");
  button.style.cssText = "position:fixed;right:20px;bottom:20px;z-index:2147483000;" +
    "padding:12px 18px;border:0;border-radius:24px;background:#2457d6;color:#fff;" +
    "font:600 15px system-ui,sans-serif;box-shadow:0 4px 14px rgba(0,0,0,.2);cursor:pointer";

  const panel = document.createElement("div");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", data.label || "Chat");
  panel.style.cssText = "position:fixed;right:20px;bottom:76px;z-index:2147483000;" +
    "width:min(380px,calc(100vw - 40px));height:min(600px,calc(100vh - 100px));" +
    "border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.25);background:#fff";

  let frame = null;
  function open() {
    if (!frame) {  // load the chat only when asked, so page views do not start sessions
      frame = document.createElement("iframe");
      frame.title = data.label || "Chat";
      frame.src = origin + "/chat?embed=1" + identityFragment();
      frame.style.cssText = "border:0;width:100%;height:100%";
      frame.allow = "clipboard-write";
      panel.appendChild(frame);
    }
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    frame.focus();
  }
  function close() {
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
  }
  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) { close(); button.focus(); }
  });

  function mount() {
    document.body.appendChild(panel);
    document.body.appendChild(button);
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.KamideskChat = { open, close };
})();
