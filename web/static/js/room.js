// The interview room, typed channel: ask for the next question, send typed answers, end.
// The conversation is shown by RoomView; a voice channel (docs/protocol.md) will be another
// module driving the same view, and the typed form stays available at every turn beside it.

import { api, ApiError } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { RoomView } from "./room-view.js";

const view = new RoomView(document.getElementById("room"));
const base = `/api/sessions/${encodeURIComponent(view.sessionId)}`;
const form = document.getElementById("answer-form");
const textarea = document.getElementById("answer");
const sendButton = document.getElementById("send-button");
const endButton = document.getElementById("end-button");
const answerError = document.getElementById("answer-error");
const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

let busy = false;

function setBusy(value) {
  busy = value;
  // aria-disabled rather than disabled: the buttons keep their place in the tab order.
  for (const button of [sendButton, endButton]) {
    if (value) button.setAttribute("aria-disabled", "true");
    else button.removeAttribute("aria-disabled");
  }
}

function showAnswerError(message) {
  answerError.textContent = message;
  answerError.hidden = !message;
  if (message) textarea.setAttribute("aria-invalid", "true");
  else textarea.removeAttribute("aria-invalid");
}

function keepComposerInView() {
  const target = form.hidden ? view.finishedPanel : form;
  target.scrollIntoView({ block: "end", behavior: reduceMotion ? "auto" : "smooth" });
}

function yourTurn(progress) {
  view.setProgress(progress);
  if (progress.awaiting === "finished") {
    view.showFinished();
  } else {
    view.setStatus(`${progress.label}. Your turn: type your answer.`, "waiting");
  }
  keepComposerInView();
}

// Brings the page in line with the server after an error (an answer may have been stored).
async function sync() {
  const session = await api("GET", base);
  for (const message of session.messages) view.addMessage(message);
  view.setProgress(session.progress);
  return session.progress;
}

async function requestNext() {
  setBusy(true);
  view.setStatus("The interviewer is thinking…", "busy");
  try {
    const turn = await api("POST", `${base}/next`);
    view.addMessage(turn.reply);
    yourTurn(turn.progress);
  } catch (error) {
    handleError(error, requestNext);
  } finally {
    setBusy(false);
  }
}

async function sendAnswer() {
  const text = textarea.value.trim();
  if (!text) {
    showAnswerError("Type an answer before sending it.");
    textarea.focus();
    return;
  }
  showAnswerError("");
  view.clearError();
  setBusy(true);
  view.setStatus("Answer sent. The interviewer is thinking…", "busy");
  try {
    const turn = await api("POST", `${base}/answers`, { text });
    textarea.value = "";
    view.addMessage(turn.answer);
    view.addMessage(turn.reply);
    yourTurn(turn.progress);
  } catch (error) {
    if (error instanceof ApiError && error.details.answer_saved) {
      // The answer is safe on the server; only the interviewer's reply failed.
      textarea.value = "";
      await sync().catch(() => {});
      handleError(error, requestNext);
    } else if (error instanceof ApiError && error.status === 422) {
      showAnswerError(error.message);
      view.setStatus("Your answer was not sent.", "waiting");
      textarea.focus();
    } else {
      handleError(error, async () => {
        const progress = await sync();
        if (progress.awaiting === "question") await requestNext();
        else yourTurn(progress);
      });
    }
  } finally {
    setBusy(false);
  }
}

async function endInterview() {
  const confirmed = await confirmDialog({
    title: "End the interview now?",
    body: "Viva will stop asking questions and write your feedback from the answers you have given so far.",
    confirmLabel: "End interview",
    cancelLabel: "Keep going",
  });
  if (!confirmed) return;
  setBusy(true);
  view.setStatus("Ending the interview…", "busy");
  try {
    await api("POST", `${base}/end`);
    view.setStatus("Interview ended. Opening your report…");
    window.location.assign(view.reportUrl);
  } catch (error) {
    handleError(error, endInterview);
    setBusy(false);
  }
}

function handleError(error, retry) {
  const message = error instanceof ApiError ? error.message : "Something went wrong in the page.";
  if (error instanceof ApiError && error.code === "conflict" && /finished/.test(message)) {
    view.showFinished();
    return;
  }
  view.setStatus("Something went wrong.");
  view.showError(message, retry);
  if (!(error instanceof ApiError)) throw error;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!busy) sendAnswer();
});

textarea.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    if (!busy) sendAnswer();
  }
});

textarea.addEventListener("input", () => {
  if (!answerError.hidden && textarea.value.trim()) showAnswerError("");
});

endButton.addEventListener("click", () => {
  if (!busy) endInterview();
});

// Start: ask for the first (or next) question if the interviewer owes one.
if (view.root.dataset.awaiting === "question") {
  requestNext();
} else if (view.root.dataset.awaiting === "answer") {
  view.setStatus(`${document.getElementById("progress-label").textContent}. Your turn: type your answer.`, "waiting");
}
