// The interview room: the voice channel (voice.js, docs/protocol.md) when the server offers
// it, and typed answers at every turn. While the voice socket is open, typed answers travel on
// it too, so the spoken session stays in step; without it they go over the HTTP API.
// RoomView renders everything; this module only decides what happens.

import { AnswerEditor } from "./answer-edit.js";
import { api, ApiError } from "./api.js";
import { confirmDialog } from "./dialog.js";
import { RoomView } from "./room-view.js";
import { VoiceChannel } from "./voice.js";

const view = new RoomView(document.getElementById("room"));
const base = `/api/sessions/${encodeURIComponent(view.sessionId)}`;
const form = document.getElementById("answer-form");
const textarea = document.getElementById("answer");
const sendButton = document.getElementById("send-button");
const endButton = document.getElementById("end-button");
const answerError = document.getElementById("answer-error");
const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

const VOICE_HELLO_TIMEOUT_MS = 10000;

// Every stored answer can be corrected. The server-rendered ones carry their ids; the others
// get theirs from the API once stored (the voice socket's events carry no message ids).
const editor = new AnswerEditor({
  sessionId: view.sessionId,
  maxChars: Number(view.root.dataset.maxAnswerChars),
  status: document.getElementById("edit-status"),
});
for (const item of view.transcript.querySelectorAll(":scope > .msg-user[data-message-id]")) {
  editor.attach(item, item.dataset.messageId, Number(item.dataset.answerNumber));
}

let refreshing = null;
let refreshAgain = false;

function refreshAnswers() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      do {
        refreshAgain = false;
        const session = await api("GET", base);
        // Skipped questions are no answers: the room showed none for them.
        view.bindAnswers(session.messages.filter((m) => m.role === "user" && !m.skipped), editor);
      } while (refreshAgain);
    } catch (error) {
      // The next stored answer tries again; only a bug in the page is worth an error.
      if (!(error instanceof ApiError)) throw error;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

function showFinished() {
  view.showFinished({ focus: !editor.editing });
}

let busy = false;
let voice = null; // the VoiceChannel once the server said hello; null on the typed-only path
let micWorks = false;
let endRequested = false;
let pendingTyped = null;

function setBusy(value) {
  busy = value;
  // aria-disabled rather than disabled: the buttons keep their place in the tab order.
  for (const button of [sendButton, endButton, document.getElementById("skip-button")]) {
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
  if (editor.editing) return; // don't scroll away from the answer being corrected
  const target = form.hidden ? view.finishedPanel : form;
  target.scrollIntoView({ block: "end", behavior: reduceMotion ? "auto" : "smooth" });
}

function yourTurn(progress) {
  view.setProgress(progress);
  if (progress.awaiting === "finished") {
    showFinished();
  } else {
    view.setStatus(`${progress.label}. Your turn: type your answer.`, "waiting");
  }
  keepComposerInView();
}

// Brings the page in line with the server after an error (an answer may have been stored).
async function sync() {
  const session = await api("GET", base);
  for (const message of session.messages) view.addMessage(message);
  view.bindAnswers(session.messages.filter((m) => m.role === "user" && !m.skipped), editor);
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
  if (voice && voice.sendTyped(text)) {
    // The server answers with final_transcript (source "typed"); the box is cleared then.
    pendingTyped = text;
    view.setStatus("Answer sent.", "busy");
    return;
  }
  setBusy(true);
  view.setStatus("Answer sent. The interviewer is thinking…", "busy");
  try {
    const turn = await api("POST", `${base}/answers`, { text });
    textarea.value = "";
    view.addMessage(turn.answer);
    view.addMessage(turn.reply);
    refreshAnswers();
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

async function skipQuestion() {
  view.clearError();
  if (voice && voice.skipQuestion()) return; // answered with a "command" event
  setBusy(true);
  view.setStatus("Skipping this question. The interviewer is thinking…", "busy");
  try {
    const turn = await api("POST", `${base}/skip`);
    view.addMessage(turn.answer);
    view.addMessage(turn.reply);
    yourTurn(turn.progress);
  } catch (error) {
    if (error instanceof ApiError && error.details.answer_saved) {
      await sync().catch(() => {});
      handleError(error, requestNext);
    } else {
      handleError(error, skipQuestion);
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
  if (voice && voice.endInterview()) {
    endRequested = true; // interview_finished opens the report
    view.setStatus("Ending the interview…", "busy");
    return;
  }
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
    showFinished();
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

// The spoken commands as buttons and shortcuts (Alt+Shift: never a character typed in an answer).
// By physical key (event.code): with Alt, the character a key gives varies by layout and OS.
// Repeat and wait need the voice; skipping works typed too.
const COMMANDS = {
  KeyR: { run: () => voice?.repeatQuestion(), voiceOnly: true },
  KeyW: { run: () => voice?.pleaseWait(), voiceOnly: true },
  KeyS: { run: () => !busy && skipQuestion(), voiceOnly: false },
};
document.getElementById("repeat-button").addEventListener("click", COMMANDS.KeyR.run);
document.getElementById("wait-button").addEventListener("click", COMMANDS.KeyW.run);
document.getElementById("skip-button").addEventListener("click", COMMANDS.KeyS.run);
document.addEventListener("keydown", (event) => {
  const command = event.altKey && event.shiftKey && !event.ctrlKey && COMMANDS[event.code];
  if (command && !(command.voiceOnly && document.getElementById("voice-panel").hidden)) {
    event.preventDefault();
    command.run();
  }
});

// ---- The typed-only path (no voice on this server) -----------------------------------------

function startTyped() {
  voice = null;
  if (view.root.dataset.awaiting === "question") {
    requestNext();
  } else if (view.root.dataset.awaiting === "answer") {
    view.setStatus(`${view.progressLabel.textContent}. Your turn: type your answer.`, "waiting");
  }
}

// ---- The voice path ---------------------------------------------------------------------------

const MIC_MESSAGES = {
  denied:
    "Viva can’t use your microphone: permission was denied. Type your answers in the box below; the interviewer still speaks the questions aloud. To answer by voice, allow the microphone for this site and reload the page.",
  missing:
    "No microphone was found. Type your answers in the box below; the interviewer still speaks the questions aloud. Connect a microphone and reload the page to answer by voice.",
  unsupported:
    "This browser can’t record audio here. Type your answers in the box below; the interviewer still speaks the questions aloud.",
  ended:
    "The microphone stopped working. Type your answers in the box below, or reconnect the microphone and reload the page.",
  failed:
    "Viva couldn’t start your microphone. Type your answers in the box below; the interviewer still speaks the questions aloud.",
};

function listeningText() {
  if (!micWorks) return `${view.progressLabel.textContent}. Your turn: type your answer.`;
  if (voice.settings.mode === "ptt") return "Your turn: hold “Hold to talk” while you answer, or type it.";
  return "Listening: answer when you’re ready, or type it.";
}

const STATE_TEXT = {
  hearing: () => "Hearing you…",
  thinking: () => "The interviewer is thinking…",
  speaking: () => "The interviewer is speaking.",
  listening: listeningText,
};

function progressLabel(question, total) {
  return `Question ${Math.max(question, 1)} of ${total}`;
}

const voiceEvents = {
  connected({ first, settings }) {
    window.clearTimeout(helloTimer);
    view.clearError();
    if (first) {
      view.showVoice(settings);
      document.getElementById("answer-label").textContent = "Type your answer instead";
    }
    view.setVoiceState("connecting", "Connected. The interviewer will speak shortly…");
  },
  state(state) {
    view.setVoiceState(state, STATE_TEXT[state] ? STATE_TEXT[state]() : state);
    // The live caption stays through "thinking" until the final transcript replaces it.
    if (state === "listening" || state === "speaking") view.setLiveCaption("");
  },
  progress({ question, total, awaiting }) {
    view.setProgress({ question, total, awaiting, label: progressLabel(question, total) });
    if (awaiting === "answer") view.labelQuestion(question);
    // Sent once an answer is stored (among other times): its id is in the API now.
    refreshAnswers();
  },
  sentence({ message, text }) {
    view.addInterviewerSentence(message, text, voiceConnection);
  },
  flush(message, kept) {
    // Not kept: only an acknowledgement was heard and the candidate went on with the answer.
    if (kept) view.markInterrupted();
    else view.dropInterviewerMessage(message, voiceConnection);
  },
  partial(_turn, text) {
    view.setLiveCaption(text);
  },
  final(_turn, text, source, continues) {
    view.clearError();
    view.addAnswer(text, { continues });
    if (source === "typed" && pendingTyped !== null) {
      if (textarea.value.trim() === pendingTyped) textarea.value = "";
      pendingTyped = null;
    }
    keepComposerInView();
  },
  revised() {
    // The second pass stored a better reading of an answer: show what is on record.
    refreshAnswers();
  },
  discarded() {
    view.setLiveCaption("");
  },
  command({ name, spoken }) {
    view.setLiveCaption("");
    const how = spoken ? "You said" : "You asked";
    const what = {
      repeat: "repeat the question",
      wait: "give me a moment",
      skip: "skip this question (it will not be scored)",
      end: "end the interview",
    };
    view.addNote(`${how}: ${what[name] || name}.`);
    if (name === "end") endRequested = true; // interview_finished opens the report
  },
  error(event) {
    if (event.code === "interview_finished") {
      showFinished();
      return;
    }
    view.showError(event.message, event.retryable || event.code === "no_question" ? () => voice.retry() : null);
  },
  finished() {
    voice.close();
    if (endRequested) {
      view.setStatus("Interview ended. Opening your report…");
      window.location.assign(view.reportUrl);
    } else {
      showFinished();
    }
  },
  reconnecting(attempt) {
    voiceConnection += 1;
    view.setLiveCaption("");
    view.setVoiceState("reconnecting", attempt > 1 ? "Reconnecting… (still trying)" : "Reconnecting…");
  },
  disconnected(event, reconnect) {
    voiceConnection += 1;
    const why = event.reason || "The voice connection was closed.";
    view.setVoiceState("idle", "Voice is disconnected. You can still type your answers.");
    view.showError(why, reconnect);
  },
  unavailable() {
    window.clearTimeout(helloTimer);
    if (voice) voice.close();
    startTyped();
  },
  micReady() {
    micWorks = true;
    if (view.voiceState === "listening") view.setVoiceState("listening", listeningText());
  },
  micProblem(kind) {
    micWorks = false;
    view.showMicProblem(MIC_MESSAGES[kind] || MIC_MESSAGES.failed);
    if (view.voiceState === "listening") view.setVoiceState("listening", listeningText());
    if (!form.hidden) textarea.focus();
  },
  level(level) {
    view.setLevel(level);
  },
  audioState(state) {
    view.setAudioBlocked(state !== "running");
  },
  settings(settings) {
    view.showSettings({ ...voice.settings, mode: settings.mode });
  },
};

let voiceConnection = 0; // distinguishes message numbers of different connections
let helloTimer = null;

function wireVoiceControls() {
  const ptt = view.pttButton;
  const down = (event) => {
    event.preventDefault();
    ptt.classList.add("is-held");
    voice.pttDown();
  };
  const up = () => {
    ptt.classList.remove("is-held");
    voice.pttUp();
  };
  ptt.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    ptt.setPointerCapture?.(event.pointerId);
    down(event);
  });
  ptt.addEventListener("pointerup", up);
  ptt.addEventListener("pointercancel", up);
  ptt.addEventListener("lostpointercapture", up);
  // Space/Enter act only while the button has focus: no page-wide shortcut (WCAG 2.1.4).
  ptt.addEventListener("keydown", (event) => {
    if (event.key !== " " && event.key !== "Enter") return;
    event.preventDefault();
    if (!event.repeat) down(event);
  });
  ptt.addEventListener("keyup", (event) => {
    if (event.key === " " || event.key === "Enter") up();
  });
  ptt.addEventListener("blur", up);
  ptt.addEventListener("click", (event) => event.preventDefault());

  for (const radio of document.querySelectorAll('input[name="voice-mode"]')) {
    radio.addEventListener("change", () => {
      if (!radio.checked) return;
      view.showSettings(voice.updateSettings({ mode: radio.value }));
      if (view.voiceState === "listening") view.setVoiceState("listening", listeningText());
    });
  }
  const silence = document.getElementById("silence-ms");
  silence.addEventListener("change", () => {
    view.showSettings(voice.updateSettings({ silence_ms: silence.value }));
  });
  const speed = document.getElementById("voice-speed");
  speed.addEventListener("input", () => {
    document.getElementById("voice-speed-value").textContent = `${Number(speed.value).toFixed(1)}×`;
  });
  speed.addEventListener("change", () => view.showSettings(voice.updateSettings({ voice_speed: speed.value })));
  const volume = document.getElementById("voice-volume");
  volume.addEventListener("input", () => view.showSettings(voice.updateSettings({ volume: volume.value / 100 })));

  view.voiceToggle.addEventListener("click", () => {
    const silenced = view.voiceToggle.getAttribute("aria-pressed") !== "true";
    view.setPressed(view.voiceToggle, silenced);
    voice.setVoiceOn(!silenced);
  });
  view.micToggle.addEventListener("click", () => {
    const muted = view.micToggle.getAttribute("aria-pressed") !== "true";
    view.setPressed(view.micToggle, muted);
    voice.setMicMuted(muted);
  });
  view.audioUnlock.addEventListener("click", () => voice.resumeAudio());
  // Browsers may hold audio back until the person interacts with the page: any key or click
  // lets the interviewer speak from then on.
  const unlock = () => voice && voice.resumeAudio();
  document.addEventListener("pointerdown", unlock, { capture: true });
  document.addEventListener("keydown", unlock, { capture: true });
}

function startVoice() {
  if (!("WebSocket" in window)) {
    startTyped();
    return;
  }
  voice = new VoiceChannel(view.sessionId, voiceEvents);
  wireVoiceControls();
  // A socket that neither says hello nor closes (a proxy that swallows it) must not leave
  // the room waiting: after a while, the typed path takes over.
  helloTimer = window.setTimeout(() => {
    if (voice && !voice.everReady) voiceEvents.unavailable();
  }, VOICE_HELLO_TIMEOUT_MS);
  try {
    voice.connect();
  } catch {
    voiceEvents.unavailable();
  }
}

if (view.root.dataset.awaiting !== "finished") startVoice();
