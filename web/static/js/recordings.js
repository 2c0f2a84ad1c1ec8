// The recordings of spoken answers: the room's "Keep my answers' audio" checkbox
// (PUT …/recording) and the report's "Delete recordings" button (DELETE …/recordings).
// Self-contained: each part does nothing on a page without its elements.

import { api, ApiError } from "./api.js";
import { confirmDialog } from "./dialog.js";

const sessionPath = (id) => `/api/sessions/${encodeURIComponent(id)}`;

function explain(error) {
  return error instanceof ApiError ? error.message : "Something went wrong in the page.";
}

const toggle = document.getElementById("record-audio");
if (toggle) {
  const status = document.getElementById("record-audio-status");
  let saving = false;
  toggle.addEventListener("change", async () => {
    if (saving) return;
    saving = true;
    const wanted = toggle.checked;
    toggle.setAttribute("aria-busy", "true");
    try {
      const recording = await api("PUT", `${sessionPath(toggle.dataset.sessionId)}/recording`, {
        record_audio: wanted,
      });
      toggle.checked = recording.record_audio;
      status.textContent = recording.record_audio
        ? "Your spoken answers’ audio is kept from your next answer on."
        : "Your answers’ audio is no longer kept. What was kept stays until you delete it on the report page.";
    } catch (error) {
      toggle.checked = !wanted;
      status.textContent = `Not changed: ${explain(error)}`;
      if (!(error instanceof ApiError)) throw error;
    } finally {
      toggle.removeAttribute("aria-busy");
      saving = false;
    }
  });
}

const actions = document.getElementById("recordings-actions");
const deleteButton = document.getElementById("delete-recordings");
if (actions && deleteButton) {
  const status = document.getElementById("recordings-status");
  deleteButton.addEventListener("click", async () => {
    const confirmed = await confirmDialog({
      title: "Delete the recordings?",
      body: "The audio of every answer in this interview is deleted for good. The transcript and the report stay.",
      confirmLabel: "Delete recordings",
      danger: true,
    });
    if (!confirmed) return;
    try {
      await api("DELETE", `${sessionPath(actions.dataset.sessionId)}/recordings`);
    } catch (error) {
      status.textContent = `Not deleted: ${explain(error)}`;
      if (!(error instanceof ApiError)) throw error;
      return;
    }
    for (const player of document.querySelectorAll("[data-answer-audio]")) {
      const audio = player.querySelector("audio");
      if (audio) audio.pause();
      player.remove();
    }
    deleteButton.remove();
    document.getElementById("recordings-hint").remove();
    status.textContent = "The recordings of your answers are deleted.";
    status.focus(); // the button that had focus is gone
  });
}
