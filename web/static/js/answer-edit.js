// Correcting the text of a stored answer in place, in the interview room and on the report
// page: an "Edit" button under the answer opens a labelled text box with Save and Cancel.
// Ctrl+Enter (Cmd+Enter) saves, Escape cancels, and focus goes back to the Edit button; the
// outcome is announced in a status region ("Answer 3 corrected."). The server keeps the text
// as first stored (PATCH /api/sessions/{id}/messages/{message_id}). Text from the server is
// set with textContent only.

import { api, ApiError, el } from "./api.js";

const OPEN_ITEMS = new Set();

function hiddenText(text) {
  return el("span", "visually-hidden", text);
}

// The mark of a revised answer and the text it replaced: the same markup as the
// ``revision`` macro in web/templates/_answer.html.
export function renderRevision(item, message, number) {
  for (const old of item.querySelectorAll(":scope > .msg-revised, :scope > .msg-original")) old.remove();
  if (!message.revised_by) return;
  const text = item.querySelector(":scope > .msg-text");
  const mark = el(
    "p",
    "msg-revised",
    message.revised_by === "candidate" ? "Corrected by you" : "Re-transcribed from your whole answer",
  );
  const nodes = [mark];
  if (message.original_content) {
    const details = el("details", "msg-original");
    const summary = el("summary", null, "Original text");
    summary.append(hiddenText(` of answer ${number}`));
    details.append(summary, el("p", null, message.original_content));
    nodes.push(details);
  }
  text.after(...nodes);
}

export class AnswerEditor {
  // sessionId: the session's public id; maxChars: the server's answer limit; status: a
  // role="status" element for announcements; onSaved(result, item): after a correction is
  // stored; onClosed(): once no answer is being edited any more.
  constructor({ sessionId, maxChars, status, onSaved, onClosed }) {
    this.sessionId = sessionId;
    this.maxChars = maxChars;
    this.status = status;
    this.onSaved = onSaved || null;
    this.onClosed = onClosed || null;
  }

  get editing() {
    return OPEN_ITEMS.size > 0;
  }

  // Gives the answer item its Edit button (once), for the stored message `messageId`, the
  // `number`-th answer of the interview.
  attach(item, messageId, number) {
    item.id = `msg-${messageId}`;
    item.dataset.messageId = String(messageId);
    item.dataset.answerNumber = String(number);
    let button = item.querySelector(":scope > .msg-tools > .msg-edit");
    if (!button) {
      const tools = el("div", "msg-tools");
      button = el("button", "button button-quiet button-small msg-edit", "Edit");
      button.type = "button";
      button.addEventListener("click", () => this.open(item));
      tools.append(button);
      item.append(tools);
    }
    button.replaceChildren("Edit", hiddenText(` answer ${number}`));
  }

  // Shows what the server holds for this answer (unless it is being edited right now).
  update(item, message, number) {
    if (item.classList.contains("is-editing")) return;
    const text = item.querySelector(":scope > .msg-text");
    if (text.textContent !== message.content) text.textContent = message.content;
    const revision = JSON.stringify([message.revised_by, message.original_content, number]);
    if (item.dataset.revision !== revision) {
      renderRevision(item, message, number);
      item.dataset.revision = revision;
    }
  }

  open(item) {
    if (item.classList.contains("is-editing")) return;
    const messageId = item.dataset.messageId;
    const number = item.dataset.answerNumber;
    const id = `edit-answer-${messageId}`;
    const form = el("form", "msg-editor");
    form.noValidate = true;
    const label = el("label", "msg-editor-label", `Correct answer ${number}`);
    label.htmlFor = id;
    const hint = el("p", "hint", "Change the text to what you said. Ctrl+Enter (Cmd+Enter on a Mac) saves, Escape cancels.");
    hint.id = `${id}-hint`;
    const error = el("p", "field-error");
    error.id = `${id}-error`;
    error.hidden = true;
    const textarea = el("textarea", "msg-editor-text");
    textarea.id = id;
    textarea.rows = 4;
    textarea.maxLength = this.maxChars;
    textarea.value = item.querySelector(":scope > .msg-text").textContent;
    textarea.setAttribute("aria-describedby", `${hint.id} ${error.id}`);
    const save = el("button", "button button-primary button-small", "Save");
    save.type = "submit";
    save.append(hiddenText(` answer ${number}`));
    const cancel = el("button", "button button-secondary button-small", "Cancel");
    cancel.type = "button";
    cancel.append(hiddenText(` correcting answer ${number}`));
    const actions = el("div", "msg-editor-actions");
    actions.append(save, cancel);
    form.append(label, hint, error, textarea, actions);

    const state = { form, textarea, error, save, saving: false };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save(item, state);
    });
    form.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        this.close(item, state);
      } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target === textarea) {
        event.preventDefault();
        this.save(item, state);
      }
    });
    textarea.addEventListener("input", () => {
      if (!error.hidden && textarea.value.trim()) this.showError(state, "");
    });
    cancel.addEventListener("click", () => this.close(item, state));

    item.classList.add("is-editing");
    item.querySelector(":scope > .msg-tools").before(form);
    OPEN_ITEMS.add(item);
    textarea.focus();
  }

  showError(state, message) {
    state.error.textContent = message;
    state.error.hidden = !message;
    if (message) state.textarea.setAttribute("aria-invalid", "true");
    else state.textarea.removeAttribute("aria-invalid");
  }

  async save(item, state) {
    if (state.saving) return;
    const text = state.textarea.value.trim();
    if (!text) {
      this.showError(state, "Type what you said before saving, or press Cancel.");
      state.textarea.focus();
      return;
    }
    state.saving = true;
    state.save.setAttribute("aria-disabled", "true");
    const path = `/api/sessions/${encodeURIComponent(this.sessionId)}/messages/${encodeURIComponent(item.dataset.messageId)}`;
    let result;
    try {
      result = await api("PATCH", path, { text });
    } catch (error) {
      state.saving = false;
      state.save.removeAttribute("aria-disabled");
      this.showError(state, error instanceof ApiError ? error.message : "Something went wrong in the page.");
      state.textarea.focus();
      if (!(error instanceof ApiError)) throw error;
      return;
    }
    const number = result.answer_number;
    this.close(item, state, { silent: true });
    this.attach(item, result.message.id, number);
    this.update(item, result.message, number);
    let said;
    if (!result.changed) said = `Answer ${number} unchanged.`;
    else if (!result.message.revised_by) said = `Answer ${number} set back to its original text.`;
    else said = `Answer ${number} corrected.`;
    if (result.changed && result.report === "out_of_date") {
      said += " Your report is now out of date: update it once you have finished correcting.";
    }
    this.announce(said);
    if (this.onSaved) this.onSaved(result, item);
  }

  close(item, state, { silent = false } = {}) {
    state.form.remove();
    item.classList.remove("is-editing");
    OPEN_ITEMS.delete(item);
    item.querySelector(":scope > .msg-tools > .msg-edit").focus();
    if (!silent) this.announce(`Correction of answer ${item.dataset.answerNumber} cancelled.`);
    if (!this.editing && this.onClosed) this.onClosed();
  }

  announce(text) {
    // Emptied first, so the same words twice in a row are still announced.
    this.status.textContent = "";
    window.setTimeout(() => {
      this.status.textContent = text;
    }, 50);
  }
}
