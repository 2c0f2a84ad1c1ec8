// Report page: when there is no feedback yet, ask the server to write it (POST …/feedback),
// say so in a status region, then reload to show the report. Errors offer a Retry. Every
// answer in the transcript can be corrected (answer-edit.js); a correction made after the
// report was written marks it out of date, and "Update my report" writes it again.

import { AnswerEditor } from "./answer-edit.js";
import { api, ApiError } from "./api.js";

const printButton = document.getElementById("print-button");
if (printButton) {
  printButton.hidden = false; // printing needs this script, so the button appears with it
  printButton.addEventListener("click", () => window.print());
}

const stale = document.getElementById("report-stale");
let reloadWhenDone = false; // a report is ready, shown once no answer is being edited

const transcript = document.getElementById("report-transcript");
const editStatus = document.getElementById("edit-status");
const editor = new AnswerEditor({
  sessionId: transcript.dataset.sessionId,
  maxChars: Number(transcript.dataset.maxAnswerChars),
  status: editStatus,
  onSaved(result) {
    if (result.changed && result.report === "out_of_date" && stale && stale.hidden) stale.hidden = false;
  },
  onClosed() {
    if (reloadWhenDone) window.location.reload();
  },
});
const answers = transcript.querySelectorAll(".msg-user[data-message-id]");
for (const item of answers) editor.attach(item, item.dataset.messageId, Number(item.dataset.answerNumber));
const hint = document.getElementById("transcript-hint");
if (hint && answers.length) hint.hidden = false;

// Writes the report (POST …/feedback) with the given panel's progress, status and error parts.
function reportWriter({ progress, status, errorBox, errorText, retry, actions, busyText }) {
  let running = false;
  async function write() {
    if (running) return;
    running = true;
    errorBox.hidden = true;
    if (actions) actions.hidden = true;
    progress.hidden = false;
    status.textContent = busyText;
    try {
      await api("POST", `/api/sessions/${encodeURIComponent(transcript.dataset.sessionId)}/feedback`);
      if (editor.editing) {
        // Reloading now would throw away the correction being typed.
        reloadWhenDone = true;
        status.textContent = "Your report is ready. It will show once you save or cancel your correction.";
        return;
      }
      status.textContent = "Your report is ready. Loading it…";
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
  retry.addEventListener("click", write);
  return write;
}

const pending = document.getElementById("feedback-pending");
if (pending) {
  const generate = reportWriter({
    progress: document.getElementById("feedback-progress"),
    status: document.getElementById("feedback-status"),
    errorBox: document.getElementById("feedback-error"),
    errorText: document.getElementById("feedback-error-text"),
    retry: document.getElementById("feedback-retry"),
    actions: document.getElementById("pending-actions"),
    busyText: "Writing your feedback…",
  });
  const generateButton = document.getElementById("generate-button");
  if (generateButton) generateButton.addEventListener("click", generate);
  if (pending.dataset.autostart === "true") generate();
}

if (stale) {
  const update = reportWriter({
    progress: document.getElementById("update-progress"),
    status: document.getElementById("update-status"),
    errorBox: document.getElementById("update-error"),
    errorText: document.getElementById("update-error-text"),
    retry: document.getElementById("update-retry"),
    actions: document.getElementById("stale-actions"),
    busyText: "Updating your report from the corrected transcript…",
  });
  document.getElementById("update-button").addEventListener("click", update);
}
