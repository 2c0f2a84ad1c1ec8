// The voice channel of the interview room: one WebSocket (docs/protocol.md, version 1) that
// carries the microphone up and the interviewer's voice down. It composes four parts, each in
// its own module: the socket (voice-socket.js), the microphone (voice-mic.js), playback and
// captions (voice-playback.js) and the settings (voice-settings.js). It renders nothing: it
// reports what happens to `events` (callbacks from room.js), which drives the RoomView.

import { Microphone } from "./voice-mic.js";
import { Playback } from "./voice-playback.js";
import { VoiceSocket } from "./voice-socket.js";
import { VoiceSettings } from "./voice-settings.js";

const PROTOCOL_VERSION = 1; // the version this client speaks; the server says its own in hello

export class VoiceChannel {
  constructor(sessionId, events) {
    this.events = events;
    this.finished = false;
    this.micMuted = false;
    this.pttHeld = false;
    this.hello = null; // the latest hello: formats and limits
    this.currentMessage = null;
    this.outputRateHz = null;
    this.prefs = new VoiceSettings();
    this.playback = new Playback(this.prefs.values.volume, (state) => this.events.audioState?.(state));
    this.mic = new Microphone({
      frame: (pcm) => this.onFrame(pcm),
      level: (level) => this.events.level?.(this.micMuted ? 0 : level),
      ready: () => this.events.micReady?.(),
      problem: (kind, error) => this.events.micProblem?.(kind, error),
    });
    this.socket = new VoiceSocket(sessionId, {
      hello: (hello, first) => this.onHello(hello, first),
      event: (event) => this.onEvent(event),
      audio: (data) => this.playback.play(this.currentMessage, data, this.outputRateHz),
      unavailable: (event) => this.events.unavailable?.(event),
      closed: () => this.playback.flush(),
      disconnected: (event) => this.events.disconnected?.(event, () => this.socket.reconnectNow()),
      reconnecting: (attempt, delay) => this.events.reconnecting?.(attempt, delay),
    });
  }

  get settings() {
    return this.prefs.values;
  }

  get isOpen() {
    return this.socket.isOpen;
  }

  get everReady() {
    return this.socket.everReady;
  }

  get micState() {
    return this.mic.state;
  }

  get audioBlocked() {
    return this.playback.blocked;
  }

  connect() {
    this.socket.connect();
  }

  send(message) {
    return this.socket.send(message);
  }

  // ---- Incoming -------------------------------------------------------------------------

  onHello(hello, first) {
    this.hello = hello;
    this.outputRateHz = hello.output_audio.sample_rate_hz;
    this.playback.ensureContext();
    // What the candidate chose is sent; for the rest the server's defaults hold (the pause
    // limit depends on whether the server judges pauses with its turn model).
    this.prefs.adopt(hello.limits, hello.settings);
    const wire = this.prefs.wire();
    if (Object.keys(wire).length) this.send({ type: "settings", ...wire });
    if (this.micMuted) this.send({ type: "mute" });
    this.events.connected?.({ first, settings: this.settings, limits: hello.limits });
    if (!this.finished) this.send({ type: "start", protocol_version: PROTOCOL_VERSION });
    if (first) this.mic.start(this.playback.context, hello.input_audio);
  }

  onEvent(event) {
    switch (event.type) {
      case "settings":
        this.events.settings?.({ ...this.settings, ...event.settings });
        break;
      case "state":
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
        this.playback.caption(event, (sentence) => this.events.sentence?.(sentence));
        break;
      case "flush_playback":
        this.playback.flush(event.message);
        this.events.flush?.(event.message, event.kept !== false);
        break;
      case "partial_transcript":
        this.events.partial?.(event.turn, event.text);
        break;
      case "final_transcript":
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
        this.socket.stop();
        this.events.finished?.(event);
        this.mic.stop();
        break;
      default:
        break; // audio_end, and unknown event types (protocol: additive changes)
    }
  }

  // ---- Audio ----------------------------------------------------------------------------

  onFrame(pcm) {
    // Frames go up continuously (also during silence): the server's turn-taking runs on them.
    if (this.micMuted || this.finished) return;
    this.socket.sendAudio(pcm);
  }

  resumeAudio() {
    return this.playback.resume();
  }

  setVoiceOn(on) {
    this.playback.setVoiceOn(on);
  }

  setMicMuted(muted) {
    this.micMuted = muted;
    this.send({ type: muted ? "mute" : "unmute" });
  }

  // ---- Controls ---------------------------------------------------------------------------

  updateSettings(patch) {
    const settings = this.prefs.update(patch);
    this.playback.setVolume(settings.volume);
    const wire = this.prefs.wire(Object.keys(patch));
    if (Object.keys(wire).length) this.send({ type: "settings", ...wire });
    return settings;
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
    this.socket.close();
    this.mic.stop();
    this.playback.flush();
  }
}
