// Home: delete an interview after confirmation (DELETE /api/sessions/{id}), or all of my
// data (DELETE /api/me).

import { api, ApiError } from "./api.js";
import { confirmDialog } from "./dialog.js";

const status = document.getElementById("home-status");
const list = document.getElementById("session-list");

async function remove(button) {
  const id = button.dataset.delete;
  const label = button.dataset.label;
  const confirmed = await confirmDialog({
    title: "Delete this interview?",
    body: `“${label}” will be deleted with its transcript and feedback. This cannot be undone.`,
    confirmLabel: "Delete interview",
    danger: true,
  });
  if (!confirmed) return;
  status.textContent = "Deleting…";
  try {
    await api("DELETE", `/api/sessions/${encodeURIComponent(id)}`);
  } catch (error) {
    status.textContent =
      error instanceof ApiError ? `Not deleted: ${error.message}` : "Not deleted: something went wrong.";
    if (!(error instanceof ApiError)) throw error;
    return;
  }
  const row = document.getElementById(`session-${id}`);
  // Focus moves to the next interview's first action, or to the list heading: never lost.
  const next = row && (row.nextElementSibling || row.previousElementSibling);
  if (row) row.remove();
  status.textContent = `Deleted “${label}”.`;
  if (next) {
    next.querySelector("a, button").focus();
  } else {
    document.getElementById("empty-state").hidden = false;
    document.getElementById("sessions-heading").focus();
  }
}

if (list) {
  list.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-delete]");
    if (button) remove(button);
  });
}

async function removeAll() {
  const confirmed = await confirmDialog({
    title: "Delete all your data?",
    body:
      "Every interview will be deleted with its CV, job description, transcript, report and " +
      "recordings, and Viva will forget you. This cannot be undone.",
    confirmLabel: "Delete everything",
    danger: true,
  });
  if (!confirmed) return;
  status.textContent = "Deleting all your data…";
  let result;
  try {
    result = await api("DELETE", "/api/me");
  } catch (error) {
    status.textContent =
      error instanceof ApiError ? `Not deleted: ${error.message}` : "Not deleted: something went wrong.";
    if (!(error instanceof ApiError)) throw error;
    return;
  }
  if (list) list.remove();
  const progress = document.getElementById("progress-heading");
  if (progress) progress.closest("section").remove();
  document.getElementById("empty-state").hidden = false;
  const count = result ? result.deleted_sessions : 0;
  status.textContent = `All your data was deleted (${count} interview${count === 1 ? "" : "s"}).`;
  document.getElementById("sessions-heading").focus();
}

document.getElementById("delete-all").addEventListener("click", removeAll);
