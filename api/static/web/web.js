/* Shared by the pages: call the JSON API with the session's CSRF token; show a toast. */
"use strict";
window.Mod = (() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const toastEl = document.getElementById("toast");
  let toastTimer = 0;

  async function api(method, url, body, signal) {
    const response = await fetch(url, {
      method,
      signal,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function toast(message, action) {
    toastEl.replaceChildren();
    const text = document.createElement("span");
    text.textContent = message;
    toastEl.append(text);
    if (action) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = action.label;
      button.addEventListener("click", () => { toastEl.hidden = true; action.run(); });
      toastEl.append(button);
    }
    toastEl.hidden = false;
    keepClear();
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toastEl.hidden = true; }, 8000);
  }

  // The toast covers the bottom of the viewport: scroll what has focus (the queue's current
  // card) up above it, so the toast never hides the scores being read.
  function keepClear() {
    const focused = document.activeElement;
    if (!focused || focused === document.body || focused === document.documentElement) return;
    const box = focused.getBoundingClientRect();
    const covered = box.bottom - toastEl.getBoundingClientRect().top;
    const room = box.top - 8; // never scroll its top out of view
    if (covered > 0 && room > 0) window.scrollBy({ top: Math.min(covered + 12, room) });
  }

  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-close]");
    if (close) close.closest("dialog").close("cancel");
  });

  return { api, toast };
})();
