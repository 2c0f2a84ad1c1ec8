// The voice channel of the interview room: one WebSocket (docs/protocol.md, version 1) that
// carries the microphone up and the interviewer's voice down, plus the audio plumbing on both
// ends. It renders nothing: it reports what happens to `events` (callbacks from room.js),
// which drives the RoomView.

const PROTOCOL_VERSION = 1;
const SETTINGS_KEY = "viva.voice.settings";
// silence_ms until the server's hello says its own default (3000 with the turn model).
const DEFAULT_SETTINGS = { mode: "vad", silence_ms: 3000, voice_speed: 1.0, volume: 1.0 };
const PLAYBACK_LEAD_S = 0.05; // head start for the first chunk, so it is not clipped
const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];
const NO_RECONNECT = new Set([4403, 4404, 4409]);
const MIC_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
};

// What the tests (and a curious developer) can read or poke; nothing in the app depends on it.
// `dropConnection()` closes the socket as a network failure would (to see the reconnect).
const stats = {
  chunksReceived: 0, chunksScheduled: 0, secondsScheduled: 0, framesSent: 0, partials: 0, finals: 0, flushes: 0, connects: 0,
};
window.__vivaVoiceStats = stats;

// The settings this browser has stored (the candidate chose them), by name.
function savedSettingKeys() {
  try {
    return Object.keys(JSON.parse(window.localStorage.getItem(SETTINGS_KEY) || "{}"));
  } catch {
    return [];
  }
}

export function loadSettings() {
  try {
    const saved = JSON.parse(window.localStorage.getItem(SETTINGS_KEY) || "{}");
    return sanitizeSettings({ ...DEFAULT_SETTINGS, ...saved });
  } catch {
    return { ...DEFAULT_SETTINGS };
  }
}

function clamp(value, low, high, fallback) {
  const number = Number(value);
  return Number.isFinite(number) ? Math.min(high, Math.max(low, number)) : fallback;
}

function sanitizeSettings(s) {
  return {
    mode: s.mode === "ptt" ? "ptt" : "vad",
    silence_ms: Math.round(clamp(s.silence_ms, 300, 10000, DEFAULT_SETTINGS.silence_ms)),
    voice_speed: Math.round(clamp(s.voice_speed, 0.5, 2.0, 1.0) * 10) / 10,
    volume: clamp(s.volume, 0, 1, 1),
  };
}

function socketUrl(sessionId) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws/sessions/${encodeURIComponent(sessionId)}`;
}

// Plays the interviewer's PCM16 chunks back to back on one AudioContext clock, and keeps each
// message's sources so a barge-in can silence them at once.
class Player {
  constructor(context, volume) {
    this.context = context;
    this.gain = context.createGain();
    this.gain.connect(context.destination);
    this.volume = volume;
    this.voiceOn = true;
    this.applyGain();
    this.nextTime = 0;
    this.messages = new Map(); // message → {startTime, sources: Set}
  }

  applyGain() {
    this.gain.gain.value = this.voiceOn ? this.volume : 0;
  }

  setVolume(volume) {
    this.volume = volume;
    this.applyGain();
  }

  setVoiceOn(on) {
    this.voiceOn = on;
    this.applyGain();
  }

  // Returns the AudioContext time at which the chunk starts.
  play(message, pcm16, sampleRateHz) {
    const samples = new Int16Array(pcm16.byteLength >> 1);
    const view = new DataView(pcm16);
    for (let i = 0; i < samples.length; i += 1) samples[i] = view.getInt16(i * 2, true);
    const buffer = this.context.createBuffer(1, samples.length, sampleRateHz);
    const channel = buffer.getChannelData(0);
    for (let i = 0; i < samples.length; i += 1) channel[i] = samples[i] / 0x8000;
    const source = this.context.createBufferSource();
    source.buffer = buffer;
    source.connect(this.gain);
    const startTime = Math.max(this.nextTime, this.context.currentTime + PLAYBACK_LEAD_S);
    source.start(startTime);
    this.nextTime = startTime + buffer.duration;
    let entry = this.messages.get(message);
    if (!entry) {
      entry = { startTime, sources: new Set() };
      this.messages.set(message, entry);
    }
    entry.sources.add(source);
    source.onended = () => entry.sources.delete(source);
    stats.chunksScheduled += 1;
    stats.secondsScheduled += buffer.duration;
    return startTime;
  }

  startTimeOf(message) {
    const entry = this.messages.get(message);
    return entry ? entry.startTime : null;
  }

  flush(message) {
    const entries = message === undefined ? [...this.messages.values()] : [this.messages.get(message)];
    for (const entry of entries) {
      if (!entry) continue;
      for (const source of entry.sources) {
        try {
          source.stop();
        } catch {
          // never started or already stopped: nothing to silence
        }
      }
      entry.sources.clear();
    }
    if (message === undefined) this.messages.clear();
    else this.messages.delete(message);
    this.nextTime = 0;
  }
}

export class VoiceChannel {
  constructor(sessionId, events) {
    this.sessionId = sessionId;
    this.events = events;
    this.settings = loadSettings();
    this.socket = null;
    this.ready = false; // hello received on the current socket
    this.everReady = false;
    this.finished = false;
    this.closedByUs = false;
    this.attempt = 0;
    this.reconnectTimer = null;
    this.context = null;
    this.player = null;
    this.mic = null; // {stream, source, node, sink}
    this.micState = "off"; // off | starting | on | unavailable
    this.micMuted = false;
    this.outputRateHz = 22050;
    this.currentMessage = null;
    this.captionTimers = new Map(); // message → Set of timeout ids
    this.pttHeld = false;
    stats.dropConnection = () => this.socket?.close(4000, "Dropped on purpose.");
  }

  get isOpen() {
    return Boolean(this.ready && this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  connect() {
    window.clearTimeout(this.reconnectTimer);
    const socket = new WebSocket(socketUrl(this.sessionId));
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.ready = false;
    stats.connects += 1;
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket) return;
      if (typeof event.data === "string") this.onEvent(event.data);
      else this.onAudio(event.data);
    });
    socket.addEventListener("close", (event) => {
      if (socket === this.socket) this.onClose(event);
    });
  }

  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  // ---- Incoming -------------------------------------------------------------------------

  onEvent(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    switch (event.type) {
      case "hello":
        this.onHello(event);
        break;
      case "settings":
        this.events.settings?.({ ...this.settings, ...event.settings });
        break;
      case "state":
        stats.state = event.state;
        this.events.state?.(event.state);
        break;
      case "progress":
        this.events.progress?.(event);
        break;
      case "audio_start":
        this.currentMessage = event.message;
        this.outputRateHz = event.sample_rate_hz || this.outputRateHz;
        break;
      case "interviewer_sentence":
        this.scheduleCaption(event);
        break;
      case "audio_end":
        break;
      case "flush_playback":
        stats.flushes += 1;
        this.player?.flush(event.message);
        this.dropCaptions(event.message);
        this.events.flush?.(event.message, event.kept !== false);
        break;
      case "partial_transcript":
        stats.partials += 1;
        this.events.partial?.(event.turn, event.text);
        break;
      case "final_transcript":
        stats.finals += 1;
        stats.lastFinal = event.text;
        this.events.final?.(event.turn, event.text, event.source, Boolean(event.continues));
        break;
      case "answer_revised":
        this.events.revised?.(event.turns, event.text);
        break;
      case "turn_discarded":
        this.events.discarded?.(event.turn);
        break;
      case "command":
        this.events.command?.(event);
        break;
      case "error":
        if (event.code === "busy") break; // a start/retry raced a turn in progress: harmless
        this.events.error?.(event);
        break;
      case "interview_finished":
        this.finished = true;
        this.events.finished?.(event);
        this.stopMic();
        break;
      default:
        break; // unknown event types are ignored (protocol: additive changes)
    }
  }

  onHello(hello) {
    this.ready = true;
    this.attempt = 0;
    this.outputRateHz = hello.tts_sample_rate_hz || this.outputRateHz;
    const first = !this.everReady;
    this.everReady = true;
    this.ensureAudio();
    // What the candidate chose is sent; for the rest the server's defaults hold (the pause
    // limit depends on whether the server judges pauses with its turn model).
    const saved = savedSettingKeys();
    const server = hello.settings || {};
    if (!saved.includes("silence_ms") && server.silence_ms) {
      this.settings = sanitizeSettings({ ...this.settings, silence_ms: server.silence_ms });
    }
    const wire = {};
    for (const key of ["mode", "silence_ms", "voice_speed"]) if (saved.includes(key)) wire[key] = this.settings[key];
    if (Object.keys(wire).length) this.send({ type: "settings", ...wire });
    if (this.micMuted) this.send({ type: "mute" });
    this.events.connected?.({ first, settings: this.settings });
    if (!this.finished) this.send({ type: "start", protocol_version: PROTOCOL_VERSION });
    if (first) this.startMic();
  }

  onAudio(data) {
    stats.chunksReceived += 1;
    if (!this.player || !(data instanceof ArrayBuffer) || data.byteLength < 2) return;
    // While the browser holds audio back, drop it rather than queue it: the server paces the
    // conversation by real time, so a backlog played later would talk over the candidate.
    if (this.context.state !== "running") return;
    this.player.play(this.currentMessage, data, this.outputRateHz);
  }

  onClose(event) {
    this.ready = false;
    if (this.closedByUs || this.finished) return;
    if (!this.everReady) {
      // Never spoke the protocol: this server has no voice (or the socket cannot get through).
      this.events.unavailable?.(event);
      return;
    }
    this.player?.flush();
    this.dropCaptions();
    if (NO_RECONNECT.has(event.code)) {
      this.events.disconnected?.(event, () => this.reconnectNow());
      return;
    }
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
    this.attempt += 1;
    this.events.reconnecting?.(this.attempt, delay);
    this.reconnectTimer = window.setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.attempt = 0;
    this.connect();
  }

  // ---- Captions in step with playback -----------------------------------------------------

  scheduleCaption(sentence) {
    const show = () => {
      this.captionTimers.get(sentence.message)?.delete(timer);
      this.events.sentence?.(sentence);
    };
    let delayMs = 0;
    const running = this.context && this.context.state === "running" && this.player?.voiceOn;
    if (running) {
      // A sentence arrives just before its audio: for the first one the message's start time
      // is not known yet, so assume it starts as soon as it can (which is what play() does).
      const start = this.player.startTimeOf(sentence.message) ??
        Math.max(this.player.nextTime, this.context.currentTime + PLAYBACK_LEAD_S);
      const at = start + sentence.audio_offset_ms / 1000;
      delayMs = Math.max(0, (at - this.context.currentTime) * 1000);
    }
    const timer = window.setTimeout(show, delayMs);
    if (!this.captionTimers.has(sentence.message)) this.captionTimers.set(sentence.message, new Set());
    this.captionTimers.get(sentence.message).add(timer);
  }

  dropCaptions(message) {
    const keys = message === undefined ? [...this.captionTimers.keys()] : [message];
    for (const key of keys) {
      for (const timer of this.captionTimers.get(key) || []) window.clearTimeout(timer);
      this.captionTimers.delete(key);
    }
  }

  // ---- Audio out --------------------------------------------------------------------------

  ensureAudio() {
    if (this.context) return;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return; // captions still show; nothing is spoken
    this.context = new Context({ latencyHint: "interactive" });
    this.player = new Player(this.context, this.settings.volume);
    this.context.addEventListener("statechange", () => this.events.audioState?.(this.context.state));
    this.resumeAudio();
    // A blocked resume() neither resolves nor rejects until a gesture: look again shortly
    // (not at once, so an allowed context has time to start and no button flashes up).
    window.setTimeout(() => this.events.audioState?.(this.context.state), 400);
  }

  // Autoplay rules may keep the context suspended until the person interacts with the page;
  // the microphone's worklet runs on the same context, so it waits too.
  resumeAudio() {
    if (!this.context || this.context.state === "running") return Promise.resolve();
    return this.context.resume().catch(() => {});
  }

  get audioBlocked() {
    return Boolean(this.context && this.context.state !== "running");
  }

  setVoiceOn(on) {
    this.player?.setVoiceOn(on);
  }

  // ---- Audio in ---------------------------------------------------------------------------

  async startMic() {
    if (this.micState !== "off") return;
    this.micState = "starting";
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !this.context || !this.context.audioWorklet) {
      this.micState = "unavailable";
      this.events.micProblem?.("unsupported");
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
    } catch (error) {
      this.micState = "unavailable";
      const kind = error && error.name === "NotFoundError" ? "missing"
        : error && (error.name === "NotAllowedError" || error.name === "SecurityError") ? "denied"
        : "failed";
      this.events.micProblem?.(kind, error);
      return;
    }
    try {
      await this.context.audioWorklet.addModule(new URL("./audio-worklet.js", import.meta.url));
      const source = this.context.createMediaStreamSource(stream);
      const node = new AudioWorkletNode(this.context, "pcm16-downsampler", { channelCount: 1, channelCountMode: "explicit" });
      // The worklet must be pulled by the graph to run; a muted sink keeps the mic inaudible.
      const sink = this.context.createGain();
      sink.gain.value = 0;
      source.connect(node).connect(sink).connect(this.context.destination);
      node.port.onmessage = (message) => this.onFrame(message.data);
      this.mic = { stream, source, node, sink };
      this.micState = "on";
      for (const track of stream.getAudioTracks()) {
        track.addEventListener("ended", () => {
          this.stopMic();
          this.micState = "unavailable";
          this.events.micProblem?.("ended");
        });
      }
      this.events.micReady?.();
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      this.micState = "unavailable";
      this.events.micProblem?.("failed", error);
    }
  }

  onFrame({ pcm, level }) {
    this.events.level?.(this.micMuted ? 0 : level);
    // Frames go up continuously (also during silence): the server's turn-taking runs on them.
    if (!this.isOpen || this.micMuted || this.finished) return;
    this.socket.send(pcm);
    stats.framesSent += 1;
  }

  stopMic() {
    if (!this.mic) return;
    const { stream, source, node, sink } = this.mic;
    node.port.onmessage = null;
    source.disconnect();
    node.disconnect();
    sink.disconnect();
    for (const track of stream.getTracks()) track.stop();
    this.mic = null;
    this.micState = "off";
    this.events.level?.(0);
  }

  setMicMuted(muted) {
    this.micMuted = muted;
    this.send({ type: muted ? "mute" : "unmute" });
  }

  // ---- Controls ---------------------------------------------------------------------------

  updateSettings(patch) {
    this.settings = sanitizeSettings({ ...this.settings, ...patch });
    try {
      window.localStorage.setItem(SETTINGS_KEY, JSON.stringify(this.settings));
    } catch {
      // private mode or full storage: the settings still apply to this visit
    }
    this.player?.setVolume(this.settings.volume);
    const wire = {};
    for (const key of ["mode", "silence_ms", "voice_speed"]) if (key in patch) wire[key] = this.settings[key];
    if (Object.keys(wire).length) this.send({ type: "settings", ...wire });
    return this.settings;
  }

  pttDown() {
    if (this.pttHeld) return;
    this.pttHeld = true;
    this.resumeAudio();
    this.send({ type: "ptt_down" });
  }

  pttUp() {
    if (!this.pttHeld) return;
    this.pttHeld = false;
    this.send({ type: "ptt_up" });
  }

  sendTyped(text) {
    return this.isOpen && this.send({ type: "typed_answer", text });
  }

  retry() {
    return this.send({ type: "retry" });
  }

  endInterview() {
    return this.isOpen && this.send({ type: "end_interview" });
  }

  repeatQuestion() {
    return this.isOpen && this.send({ type: "repeat_question" });
  }

  pleaseWait() {
    return this.isOpen && this.send({ type: "wait" });
  }

  skipQuestion() {
    return this.isOpen && this.send({ type: "skip_question" });
  }

  close() {
    this.closedByUs = true;
    window.clearTimeout(this.reconnectTimer);
    this.stopMic();
    this.player?.flush();
    this.dropCaptions();
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }
}
