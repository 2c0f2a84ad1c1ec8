// The interview room's view: transcript (role="log"), status (role="status"), progress and
// errors. Input channels drive it — the typed channel in room.js now, a voice channel later —
// so both show the conversation the same way.

import { el } from "./api.js";

export class RoomView {
  constructor(root) {
    this.root = root;
    this.sessionId = root.dataset.sessionId;
    this.transcript = document.getElementById("transcript");
    this.status = document.getElementById("room-status");
    this.progressLabel = document.getElementById("progress-label");
    this.progressFill = document.getElementById("progress-fill");
    this.errorBox = document.getElementById("room-error");
    this.errorText = document.getElementById("room-error-text");
    this.retryButton = document.getElementById("retry-button");
    this.finishedPanel = document.getElementById("finished-panel");
    this.form = document.getElementById("answer-form");
    this.onRetry = null;
    this.retryButton.addEventListener("click", () => {
      const retry = this.onRetry;
      this.clearError();
      if (retry) retry();
    });
  }

  get reportUrl() {
    return `/sessions/${encodeURIComponent(this.sessionId)}/report`;
  }

  addMessage(message) {
    if (!message || document.getElementById(`msg-${message.id}`)) return;
    const item = el("div", `msg msg-${message.role} is-new`);
    item.id = `msg-${message.id}`;
    let who = message.role === "assistant" ? "Interviewer" : "You";
    if (message.role === "assistant" && message.question_number) who += ` · Question ${message.question_number}`;
    item.append(el("p", "msg-who", who), el("p", "msg-text", message.content));
    this.transcript.append(item);
  }

  setStatus(text, mode = "idle") {
    this.status.textContent = text;
    this.status.classList.toggle("is-busy", mode === "busy");
    this.status.classList.toggle("is-waiting", mode === "waiting");
  }

  setProgress(progress) {
    if (!progress) return;
    this.progressLabel.textContent = progress.label;
    const ratio = progress.total ? Math.min(1, progress.question / progress.total) : 0;
    this.progressFill.style.width = `${Math.round(ratio * 100)}%`;
    this.root.dataset.awaiting = progress.awaiting;
  }

  showError(message, onRetry) {
    this.errorText.textContent = message;
    this.onRetry = onRetry || null;
    this.retryButton.hidden = !onRetry;
    this.errorBox.hidden = false;
  }

  clearError() {
    this.errorBox.hidden = true;
    this.errorText.textContent = "";
    this.onRetry = null;
  }

  showFinished() {
    this.form.hidden = true;
    this.finishedPanel.hidden = false;
    this.setStatus("The interview is over.");
    // Focus follows the conversation to its only next step.
    document.getElementById("report-link").focus();
  }
}
