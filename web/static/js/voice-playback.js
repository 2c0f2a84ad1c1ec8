// The interviewer's voice in the browser: one AudioContext (the microphone's worklet runs on
// it too), PCM16 chunks played back to back on its clock, and captions shown in step with the
// audio. A barge-in (`flush_playback`) silences a message at once and drops its captions.

const PLAYBACK_LEAD_S = 0.05; // head start for the first chunk, so it is not clipped

function toAudioBuffer(context, pcm16, sampleRateHz) {
  const samples = new Int16Array(pcm16.byteLength >> 1);
  const view = new DataView(pcm16);
  for (let i = 0; i < samples.length; i += 1) samples[i] = view.getInt16(i * 2, true);
  const buffer = context.createBuffer(1, samples.length, sampleRateHz);
  const channel = buffer.getChannelData(0);
  for (let i = 0; i < samples.length; i += 1) channel[i] = samples[i] / 0x8000;
  return buffer;
}

export class Playback {
  // onState(contextState): the context started or was held back (autoplay rules).
  constructor(volume, onState) {
    this.onState = onState;
    this.context = null;
    this.gain = null;
    this.volume = volume;
    this.voiceOn = true;
    this.nextTime = 0;
    this.messages = new Map(); // message → {startTime, sources: Set}
    this.captionTimers = new Map(); // message → Set of timeout ids
  }

  // Creates the context on the first hello; false where the browser has no Web Audio.
  ensureContext() {
    if (this.context) return true;
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return false; // captions still show; nothing is spoken
    this.context = new Context({ latencyHint: "interactive" });
    this.gain = this.context.createGain();
    this.gain.connect(this.context.destination);
    this.applyGain();
    this.context.addEventListener("statechange", () => this.onState(this.context.state));
    this.resume();
    // A blocked resume() neither resolves nor rejects until a gesture: look again shortly
    // (not at once, so an allowed context has time to start and no button flashes up).
    window.setTimeout(() => this.onState(this.context.state), 400);
    return true;
  }

  // Autoplay rules may keep the context suspended until the person interacts with the page.
  resume() {
    if (!this.context || this.context.state === "running") return Promise.resolve();
    return this.context.resume().catch(() => {});
  }

  get running() {
    return Boolean(this.context && this.context.state === "running");
  }

  get blocked() {
    return Boolean(this.context && this.context.state !== "running");
  }

  applyGain() {
    if (this.gain) this.gain.gain.value = this.voiceOn ? this.volume : 0;
  }

  setVolume(volume) {
    this.volume = volume;
    this.applyGain();
  }

  setVoiceOn(on) {
    this.voiceOn = on;
    this.applyGain();
  }

  // Schedules one chunk of `message` right after what is already scheduled.
  play(message, pcm16, sampleRateHz) {
    // While the browser holds audio back, drop it rather than queue it: the server paces the
    // conversation by real time, so a backlog played later would talk over the candidate.
    if (!this.running || !(pcm16 instanceof ArrayBuffer) || pcm16.byteLength < 2) return;
    const buffer = toAudioBuffer(this.context, pcm16, sampleRateHz);
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
  }

  // Shows `sentence` (via `show`) when its audio starts, or at once when nothing is heard.
  caption(sentence, show) {
    let delayMs = 0;
    if (this.running && this.voiceOn) {
      // A sentence arrives just before its audio: for the first one the message's start time
      // is not known yet, so assume it starts as soon as it can (which is what play() does).
      const entry = this.messages.get(sentence.message);
      const start = entry ? entry.startTime : Math.max(this.nextTime, this.context.currentTime + PLAYBACK_LEAD_S);
      const at = start + sentence.audio_offset_ms / 1000;
      delayMs = Math.max(0, (at - this.context.currentTime) * 1000);
    }
    if (!this.captionTimers.has(sentence.message)) this.captionTimers.set(sentence.message, new Set());
    const timers = this.captionTimers.get(sentence.message);
    const timer = window.setTimeout(() => {
      timers.delete(timer);
      show(sentence);
    }, delayMs);
    timers.add(timer);
  }

  // Silences `message` (every message when undefined) and drops its captions not yet shown.
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
    const keys = message === undefined ? [...this.captionTimers.keys()] : [message];
    for (const key of keys) {
      for (const timer of this.captionTimers.get(key) || []) window.clearTimeout(timer);
      this.captionTimers.delete(key);
    }
  }
}
