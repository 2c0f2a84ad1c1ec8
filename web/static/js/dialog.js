// A small confirmation dialog on the native <dialog> element: it traps focus while open,
// closes on Escape, and we hand focus back to whatever opened it.

import { el } from "./api.js";

export function confirmDialog({ title, body, confirmLabel, cancelLabel = "Cancel", danger = false }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const dialog = el("dialog", "confirm");
    const heading = el("h2", null, title);
    heading.id = "confirm-title";
    dialog.setAttribute("aria-labelledby", heading.id);
    const text = el("p", null, body);
    text.id = "confirm-body";
    dialog.setAttribute("aria-describedby", text.id);
    const actions = el("div", "actions");
    const cancel = el("button", "button button-secondary", cancelLabel);
    cancel.type = "button";
    const ok = el("button", danger ? "button button-danger-solid" : "button button-primary", confirmLabel);
    ok.type = "button";
    actions.append(cancel, ok);
    dialog.append(heading, text, actions);
    document.body.append(dialog);

    let answered = false;
    const finish = (value) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      if (opener && opener.isConnected && typeof opener.focus === "function") opener.focus();
      resolve(value);
    };
    cancel.addEventListener("click", () => finish(false));
    ok.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", (event) => {
      event.preventDefault();
      finish(false);
    });
    dialog.showModal();
    // The safe choice has focus first, so a stray Enter never deletes anything.
    cancel.focus();
  });
}
