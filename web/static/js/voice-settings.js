// The candidate's voice settings: kept in this browser (localStorage), sent to the server
// only where the candidate chose them, and bounded by the limits the server's `hello` states
// (docs/protocol.md): nothing here repeats the protocol's numbers.

const STORAGE_KEY = "viva.voice.settings";
// What applies before the candidate chooses; the pause limit is replaced by the server's
// default from `hello` (it depends on whether the server judges pauses with its turn model).
const DEFAULTS = { mode: "vad", silence_ms: null, voice_speed: 1.0, volume: 1.0 };
// The settings the server keeps; volume stays in the browser.
const WIRE_KEYS = ["mode", "silence_ms", "voice_speed"];

function stored() {
  try {
    const value = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function number(value, fallback) {
  const n = Number(value);
  return value !== null && value !== "" && Number.isFinite(n) ? n : fallback;
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

export class VoiceSettings {
  constructor() {
    this.chosen = new Set(Object.keys(stored()).filter((key) => key in DEFAULTS));
    this.limits = null; // from hello
    this.values = this.sanitize({ ...DEFAULTS, ...stored() });
  }

  // The limits and defaults of the server that said hello; what the candidate chose stands.
  adopt(limits, serverSettings) {
    this.limits = limits || null;
    const fromServer = {};
    for (const key of WIRE_KEYS) {
      if (!this.chosen.has(key) && serverSettings && key in serverSettings) fromServer[key] = serverSettings[key];
    }
    this.values = this.sanitize({ ...this.values, ...fromServer });
  }

  // What the candidate chose that the server should know (sent after every hello).
  wire(keys = [...this.chosen]) {
    const out = {};
    for (const key of WIRE_KEYS) if (keys.includes(key) && this.values[key] !== null) out[key] = this.values[key];
    return out;
  }

  // The candidate changed something: keep it (for this visit if storage is refused).
  update(patch) {
    for (const key of Object.keys(patch)) if (key in DEFAULTS) this.chosen.add(key);
    this.values = this.sanitize({ ...this.values, ...patch });
    const keep = {};
    for (const key of this.chosen) keep[key] = this.values[key];
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(keep));
    } catch {
      // private mode or full storage: the settings still apply to this visit
    }
    return this.values;
  }

  sanitize(s) {
    const limits = this.limits;
    const silence = number(s.silence_ms, null);
    let speed = number(s.voice_speed, 1.0);
    if (limits) speed = clamp(speed, limits.voice_speed_min, limits.voice_speed_max);
    return {
      mode: s.mode === "ptt" ? "ptt" : "vad",
      silence_ms: silence === null ? null
        : Math.round(limits ? clamp(silence, limits.silence_ms_min, limits.silence_ms_max) : silence),
      voice_speed: Math.round(speed * 10) / 10,
      volume: clamp(number(s.volume, 1.0), 0, 1),
    };
  }
}
