// The interview room's view: transcript (role="log"), status (role="status"), progress,
// errors and the voice panel. Both input channels drive it — typed answers over HTTP and the
// voice socket (voice.js) — so the conversation looks the same whichever way it arrives.
// Everything from the server or the model is set with textContent only.

import { el } from "./api.js";

function squash(text) {
  return (text || "").replace(/\s+/g, " ").trim();
}

export class RoomView {
  constructor(root) {
    this.root = root;
    this.sessionId = root.dataset.sessionId;
    this.transcript = document.getElementById("transcript");
    this.status = document.getElementById("room-status");
    this.progressLabel = document.getElementById("progress-label");
    this.progressFill = document.getElementById("progress-fill");
    // Set here, not in a style attribute: the Content-Security-Policy allows no inline styles.
    this.progressFill.style.width = `${this.progressFill.dataset.percent || 0}%`;
    this.errorBox = document.getElementById("room-error");
    this.errorText = document.getElementById("room-error-text");
    this.retryButton = document.getElementById("retry-button");
    this.finishedPanel = document.getElementById("finished-panel");
    this.form = document.getElementById("answer-form");
    this.voicePanel = document.getElementById("voice-panel");
    this.liveCaption = document.getElementById("live-caption");
    this.liveCaptionText = document.getElementById("live-caption-text");
    this.micNotice = document.getElementById("mic-notice");
    this.meter = document.getElementById("mic-meter");
    this.meterFill = document.getElementById("mic-meter-fill");
    this.pttButton = document.getElementById("ptt-button");
    this.pttHint = document.getElementById("ptt-hint");
    this.audioUnlock = document.getElementById("audio-unlock");
    this.voiceToggle = document.getElementById("voice-toggle");
    this.micToggle = document.getElementById("mic-toggle");
    this.voiceState = null;
    this.meterShownAt = 0;
    this.answerCount = 0;
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
    const item = el("div", `msg msg-${message.role} is-new${message.skipped ? " is-skipped" : ""}`);
    item.id = `msg-${message.id}`;
    // A skipped question is no answer: nothing to correct.
    if (message.role === "user" && !message.skipped) item.dataset.messageId = String(message.id);
    let who = message.role === "assistant" ? "Interviewer" : "You";
    if (message.role === "assistant" && message.question_number) who += ` · Question ${message.question_number}`;
    if (message.skipped) who += " · Skipped this question";
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

  // ---- Voice ------------------------------------------------------------------------------

  showVoice(settings) {
    this.voicePanel.hidden = false;
    this.root.classList.add("has-voice");
    this.showSettings(settings);
  }

  showSettings(settings) {
    document.getElementById(settings.mode === "ptt" ? "mode-ptt" : "mode-vad").checked = true;
    document.getElementById("silence-ms").value = String(settings.silence_ms);
    document.getElementById("voice-speed").value = String(settings.voice_speed);
    document.getElementById("voice-speed-value").textContent = `${settings.voice_speed.toFixed(1)}×`;
    const volume = Math.round(settings.volume * 100);
    document.getElementById("voice-volume").value = String(volume);
    document.getElementById("voice-volume-value").textContent = `${volume}%`;
    const ptt = settings.mode === "ptt";
    this.pttButton.hidden = !ptt || this.micUnavailable;
    this.pttHint.hidden = this.pttButton.hidden;
  }

  // One announcement per change of state, never one per caption.
  setVoiceState(state, text) {
    if (state === this.voiceState && this.status.textContent === text) return;
    this.voiceState = state;
    this.status.dataset.voiceState = state;
    this.setStatus(text, state === "listening" ? "waiting" : state === "idle" ? "idle" : "busy");
  }

  // The interviewer's words, one sentence at a time as their audio plays. When the server
  // repeats the pending question (on load or after a reconnect), the question already shown
  // last is reused rather than shown twice.
  addInterviewerSentence(message, text, connection) {
    const key = `${connection}:${message}`;
    this.voiceMessages ??= new Map();
    let entry = this.voiceMessages.get(key);
    if (!entry) {
      const last = this.transcript.lastElementChild;
      const lastText = last?.classList.contains("msg-assistant") ? squash(last.querySelector(".msg-text")?.textContent) : "";
      if (lastText && lastText.includes(squash(text))) {
        entry = { item: last, repeat: true };
      } else {
        const item = el("div", "msg msg-assistant is-new");
        item.id = `voice-${connection}-msg-${message}`;
        item.append(el("p", "msg-who", "Interviewer"), el("p", "msg-text", text));
        this.transcript.append(item);
        entry = { item, repeat: false };
      }
      this.voiceMessages.set(key, entry);
      this.lastInterviewerItem = entry.item;
      return;
    }
    const body = entry.item.querySelector(".msg-text");
    if (entry.repeat && squash(body.textContent).includes(squash(text))) return;
    body.textContent = `${body.textContent} ${text}`;
  }

  labelQuestion(number) {
    const who = this.lastInterviewerItem?.querySelector(".msg-who");
    if (who && number) who.textContent = `Interviewer · Question ${number}`;
  }

  // A line in the transcript for what was asked of the interviewer ("You asked: repeat the
  // question"): the log is announced, so a screen reader hears that the command was understood.
  addNote(text) {
    const item = el("p", "msg-note", text);
    this.transcript.append(item);
    item.scrollIntoView?.({ block: "nearest" });
  }

  markInterrupted() {
    this.lastInterviewerItem?.classList.add("is-interrupted");
  }

  dropInterviewerMessage(message, connection) {
    const key = `${connection}:${message}`;
    const entry = this.voiceMessages?.get(key);
    if (entry && !entry.repeat) {
      entry.item.remove();
      if (this.lastInterviewerItem === entry.item) {
        const left = this.transcript.querySelectorAll(".msg-assistant");
        this.lastInterviewerItem = left[left.length - 1];
      }
    }
    this.voiceMessages?.delete(key);
  }

  setLiveCaption(text) {
    this.liveCaptionText.textContent = text;
    this.liveCaption.hidden = !text;
  }

  // `continues`: the candidate went on with the answer shown last (after a pause, or over an
  // acknowledgement): the words join it, as they are stored.
  addAnswer(text, { continues = false } = {}) {
    this.setLiveCaption("");
    const answers = this.transcript.querySelectorAll(".msg-user");
    const last = answers[answers.length - 1];
    if (continues && last && last === this.transcript.lastElementChild) {
      const shown = last.querySelector(".msg-text");
      shown.textContent = `${shown.textContent} ${text}`;
      return;
    }
    this.answerCount += 1;
    const item = el("div", "msg msg-user is-new");
    item.id = `voice-answer-${this.answerCount}`;
    item.append(el("p", "msg-who", "You"), el("p", "msg-text", text));
    this.transcript.append(item);
  }

  // Gives every answer the server has stored its Edit control (`editor`, answer-edit.js).
  // `stored`: the session's answers from the API, in order. Answers shown from the voice
  // socket carry no message id: they are matched in order with the stored ones, and a
  // continuation shown apart (the server adds it to the answer before) is folded into it.
  bindAnswers(stored, editor) {
    const index = new Map(stored.map((message, i) => [String(message.id), i]));
    const shown = (message) => document.getElementById(`msg-${message.id}`) !== null;
    const holds = (message, item) =>
      squash(message.content).includes(squash(item.querySelector(".msg-text")?.textContent));
    let next = 0;
    let previous = null;
    for (const item of [...this.transcript.querySelectorAll(":scope > .msg-user")]) {
      let i = item.dataset.messageId ? index.get(item.dataset.messageId) : undefined;
      if (!item.dataset.messageId) {
        const free = next < stored.length && !shown(stored[next]);
        if (free && holds(stored[next], item)) i = next;
        else if (previous && holds(previous, item)) {
          item.remove();
          continue;
        } else if (free) i = next;
      }
      if (i === undefined) continue; // not stored yet
      editor.attach(item, stored[i].id, i + 1);
      editor.update(item, stored[i], i + 1);
      previous = stored[i];
      next = i + 1;
    }
  }

  setLevel(level) {
    // The meter is updated at most ten times a second: enough to see, little work.
    const now = performance.now();
    if (level > 0 && now - this.meterShownAt < 100) return;
    this.meterShownAt = now;
    const percent = Math.min(100, Math.round(Math.sqrt(level) * 140));
    this.meter.setAttribute("aria-valuenow", String(percent));
    this.meter.setAttribute("aria-valuetext", this.micUnavailable ? "off" : `${percent}%`);
    this.meterFill.style.transform = `scaleX(${percent / 100})`;
  }

  showMicProblem(message) {
    this.micUnavailable = true;
    this.micNotice.textContent = message;
    this.micNotice.hidden = false;
    this.pttButton.hidden = true;
    this.pttHint.hidden = true;
    this.micToggle.hidden = true;
    // Without a microphone, how an answer ends no longer matters.
    document.getElementById("mode-field").hidden = true;
    document.getElementById("silence-field").hidden = true;
    this.meter.setAttribute("aria-valuetext", "off");
    document.getElementById("mic-level").hidden = true;
  }

  setAudioBlocked(blocked) {
    this.audioUnlock.hidden = !blocked;
  }

  setPressed(button, pressed) {
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
  }

  showFinished({ focus = true } = {}) {
    this.setLiveCaption("");
    this.voicePanel.hidden = true;
    this.form.hidden = true;
    this.finishedPanel.hidden = false;
    this.setStatus("The interview is over.");
    // Focus follows the conversation to its only next step (unless an answer is being
    // corrected: the text box keeps it).
    if (focus) document.getElementById("report-link").focus();
  }
}
