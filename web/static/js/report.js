// Report page: when there is no feedback yet, ask the server to write it (POST …/feedback),
// say so in a status region, then reload to show the report. Errors offer a Retry.

import { api, ApiError } from "./api.js";

const printButton = document.getElementById("print-button");
if (printButton) {
  printButton.hidden = false; // printing needs this script, so the button appears with it
  printButton.addEventListener("click", () => window.print());
}

const pending = document.getElementById("feedback-pending");
if (pending) {
  const sessionId = pending.dataset.sessionId;
  const progress = document.getElementById("feedback-progress");
  const status = document.getElementById("feedback-status");
  const errorBox = document.getElementById("feedback-error");
  const errorText = document.getElementById("feedback-error-text");
  const retry = document.getElementById("feedback-retry");
  const generateButton = document.getElementById("generate-button");
  const actions = document.getElementById("pending-actions");
  let running = false;

  async function generate() {
    if (running) return;
    running = true;
    errorBox.hidden = true;
    if (actions) actions.hidden = true;
    progress.hidden = false;
    status.textContent = "Writing your feedback…";
    try {
      await api("POST", `/api/sessions/${encodeURIComponent(sessionId)}/feedback`);
      status.textContent = "Your feedback is ready. Loading it…";
      window.location.reload();
    } catch (error) {
      running = false;
      progress.hidden = true;
      status.textContent = "";
      errorText.textContent =
        error instanceof ApiError ? error.message : "Something went wrong in the page.";
      errorBox.hidden = false;
      retry.focus();
      if (!(error instanceof ApiError)) throw error;
    }
  }

  retry.addEventListener("click", generate);
  if (generateButton) generateButton.addEventListener("click", generate);
  if (pending.dataset.autostart === "true") generate();
}
