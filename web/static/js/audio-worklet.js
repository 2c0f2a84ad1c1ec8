// AudioWorklet processor: the microphone at the context's rate in, mono PCM16 (little-endian)
// out at the rate the server's hello asks for (16 kHz), posted to the page in frames
// (`frameSamples`; 20 ms) together with the frame's level (RMS, 0..1) for the meter.
// docs/protocol.md fixes the format.

class Pcm16Downsampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { outRateHz, frameSamples } = options.processorOptions;
    // `sampleRate` is the AudioWorkletGlobalScope's: the context's rate (44.1 or 48 kHz).
    this.step = sampleRate / outRateHz; // input samples per output sample
    this.frameSamples = frameSamples;
    this.position = 0; // where the next output sample lies, in input samples from `carry`
    this.carry = new Float32Array(0); // input not yet consumed
    this.frame = new Int16Array(frameSamples);
    this.filled = 0;
    this.sumSquares = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || input.length === 0 || input[0].length === 0) return true;
    // Mono: average the channels (a stereo device still gives one voice).
    const length = input[0].length;
    const mono = new Float32Array(this.carry.length + length);
    mono.set(this.carry);
    for (let c = 0; c < input.length; c += 1) {
      const channel = input[c];
      for (let i = 0; i < length; i += 1) mono[this.carry.length + i] += channel[i] / input.length;
    }
    // Box-filter over one output period (a cheap anti-alias low-pass), then pick the sample:
    // good enough for speech recognition, and far cheaper than a windowed sinc.
    const half = this.step / 2;
    while (this.position + half < mono.length) {
      const from = Math.max(0, Math.floor(this.position - half));
      const to = Math.min(mono.length, Math.ceil(this.position + half));
      let sum = 0;
      for (let i = from; i < to; i += 1) sum += mono[i];
      const value = Math.max(-1, Math.min(1, sum / Math.max(1, to - from)));
      this.frame[this.filled] = value < 0 ? value * 0x8000 : value * 0x7fff;
      this.sumSquares += value * value;
      this.filled += 1;
      if (this.filled === this.frameSamples) this.flush();
      this.position += this.step;
    }
    const consumed = Math.max(0, Math.floor(this.position - half));
    this.carry = mono.slice(consumed);
    this.position -= consumed;
    return true;
  }

  flush() {
    // Int16Array stores in the platform's byte order; every browser platform is little-endian,
    // but a DataView makes the wire format explicit rather than assumed.
    const bytes = new ArrayBuffer(this.frameSamples * 2);
    const view = new DataView(bytes);
    for (let i = 0; i < this.frameSamples; i += 1) view.setInt16(i * 2, this.frame[i], true);
    const level = Math.sqrt(this.sumSquares / this.frameSamples);
    this.port.postMessage({ pcm: bytes, level }, [bytes]);
    this.filled = 0;
    this.sumSquares = 0;
  }
}

registerProcessor("pcm16-downsampler", Pcm16Downsampler);
