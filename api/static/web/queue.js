/* The queue: j/k move, a approve, r reject (reason picker), u undo, x select, b author, ? help; bulk; leases. */
"use strict";
(() => {
  const list = document.getElementById("queue");
  if (!list) return;
  const { api, toast } = window.Mod;
  const rejectDialog = document.getElementById("reject-dialog");
  const rejectForm = document.getElementById("reject-form");
  const helpDialog = document.getElementById("help-dialog");
  const bulkbar = document.getElementById("bulkbar");
  const undoStack = []; // each entry: the cards one decision removed, with their positions
  let current = list.querySelector(".card.current");
  let rejecting = [];

  const cards = () => [...list.querySelectorAll(".card")];
  const selected = () => cards().filter((c) => c.querySelector("[data-select]").checked);
  const targets = () => (selected().length ? selected() : current ? [current] : []);

  function setCurrent(card, focus) {
    if (!card) return;
    cards().forEach((c) => c.classList.toggle("current", c === card));
    current = card;
    if (focus) {
      card.focus({ preventScroll: true });
      card.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const all = cards();
    if (!all.length) return;
    const i = all.indexOf(current);
    setCurrent(all[Math.max(0, Math.min(all.length - 1, i < 0 ? 0 : i + step))], true);
  }

  function refresh() {
    const n = selected().length;
    bulkbar.hidden = n === 0;
    bulkbar.querySelector("[data-count]").textContent = `${n} selected`;
    document.getElementById("empty").hidden = cards().length > 0;
  }

  async function decide(els, action, reason, note) {
    if (!els.length) return;
    const decisions = els.map((el) => {
      const d = { id: el.dataset.id, action, version: Number(el.dataset.version) };
      if (reason) d.reason = reason;
      if (note) d.note = note;
      return d;
    });
    let results;
    try {
      results = (await api("POST", "/v1/queue/decisions", { decisions })).results;
    } catch (err) {
      toast(err.message);
      return;
    }
    const ok = new Set(results.filter((r) => r.status === 200).map((r) => r.id));
    const failed = results.filter((r) => r.status !== 200);
    const all = cards();
    const done = els.filter((el) => ok.has(el.dataset.id));
    const rest = all.filter((c) => !done.includes(c));
    const after = all.slice(all.indexOf(done[done.length - 1]) + 1).find((c) => !done.includes(c));
    const batch = done.map((el) => ({ el, index: all.indexOf(el) }));
    done.forEach((el) => {
      el.remove();
      el.querySelector("[data-select]").checked = false;
      el.dataset.version = String(Number(el.dataset.version) + 1);
    });
    if (batch.length) undoStack.push(batch);
    refresh();
    if (batch.length) setCurrent(after || rest[rest.length - 1], true);
    const verb = action === "approve" ? "Approved" : "Rejected";
    let message = batch.length ? `${verb} ${batch.length === 1 ? "the comment" : `${batch.length} comments`}.` : "";
    if (failed.length) message += ` ${failed.length} not decided: ${failed[0].message}`;
    toast(message.trim(), batch.length ? { label: "Undo (u)", run: undo } : null);
  }

  async function undo() {
    const batch = undoStack.pop();
    if (!batch) {
      toast("Nothing to undo.");
      return;
    }
    const restored = [];
    for (const item of batch) {
      try {
        const comment = await api("POST", `/v1/comments/${encodeURIComponent(item.el.dataset.id)}/undo`);
        item.el.dataset.version = String(comment.version);
        restored.push(item);
      } catch (err) {
        toast(err.message);
      }
    }
    restored.sort((a, b) => a.index - b.index);
    restored.forEach(({ el, index }) => list.insertBefore(el, list.children[index] || null));
    refresh();
    if (restored.length) {
      setCurrent(restored[0].el, true);
      toast(restored.length === 1 ? "Undone: the comment is back in the queue." : `Undone: ${restored.length} comments are back in the queue.`);
    }
  }

  function openReject(els) {
    if (!els.length) return;
    rejecting = els;
    rejectForm.reset();
    rejectForm.elements.note.required = false;
    rejectDialog.querySelector("[data-what]").textContent = els.length === 1 ? "this comment" : `${els.length} comments`;
    rejectDialog.returnValue = "";
    rejectDialog.showModal();
    rejectForm.querySelector('input[name="reason"]').focus(); // focused, not picked: no default
  }

  rejectForm.addEventListener("change", () => {
    rejectForm.elements.note.required = rejectForm.elements.reason.value === "other";
  });
  rejectDialog.addEventListener("keydown", (event) => {
    if (event.target.tagName === "TEXTAREA" || !/^[1-9]$/.test(event.key)) return;
    const radio = rejectForm.querySelectorAll('input[name="reason"]')[Number(event.key) - 1];
    if (!radio) return;
    event.preventDefault();
    radio.checked = true;
    radio.focus();
    rejectForm.dispatchEvent(new Event("change"));
  });
  rejectDialog.addEventListener("close", () => {
    if (rejectDialog.returnValue !== "reject") return;
    const note = rejectForm.elements.note.value.trim();
    decide(rejecting, "reject", rejectForm.elements.reason.value, note || undefined);
  });

  list.addEventListener("submit", (event) => {
    if (!event.target.matches("[data-decide]")) return;
    event.preventDefault();
    const card = event.target.closest(".card");
    setCurrent(card, false);
    decide([card], "approve");
  });
  list.addEventListener("click", (event) => {
    const reject = event.target.closest("[data-reject]");
    if (!reject) return;
    event.preventDefault();
    const card = reject.closest(".card");
    setCurrent(card, false);
    openReject([card]);
  });
  list.addEventListener("focusin", (event) => setCurrent(event.target.closest(".card"), false));
  list.addEventListener("change", refresh);
  bulkbar.addEventListener("click", (event) => {
    const which = event.target.closest("[data-bulk]");
    if (!which) return;
    if (which.dataset.bulk === "approve") decide(selected(), "approve");
    if (which.dataset.bulk === "reject") openReject(selected());
    if (which.dataset.bulk === "clear") {
      selected().forEach((c) => { c.querySelector("[data-select]").checked = false; });
      refresh();
    }
  });
  document.querySelectorAll("[data-help]").forEach((b) => b.addEventListener("click", () => helpDialog.showModal()));

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    const field = event.target.closest("input, textarea, select, [contenteditable]");
    if (field && !field.matches("[data-select]")) return;
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "a": decide(targets(), "approve"); break;
      case "r": openReject(targets()); break;
      case "u": undo(); break;
      case "x":
        if (!current) return;
        current.querySelector("[data-select]").click();
        break;
      case "o": if (current) window.location.assign(current.dataset.url); break;
      case "b": {
        const author = current && current.querySelector("[data-author]");
        if (!author) return;
        window.location.assign(author.href);
        break;
      }
      case "?": helpDialog.showModal(); break;
      default: return;
    }
    event.preventDefault();
  });
  // The shortcuts listen from here on (the browser tests wait for this before a key).
  document.body.dataset.keys = "ready";

  // Keep the leases on the comments this page claimed while it stays open.
  setInterval(() => {
    const ids = cards().filter((c) => c.dataset.mine === "1").map((c) => c.dataset.id);
    if (ids.length) api("POST", "/v1/queue/claim/renew", { ids }).catch(() => {});
  }, 120000);
})();
