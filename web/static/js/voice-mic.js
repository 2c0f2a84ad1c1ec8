// The microphone: getUserMedia with the browser's echo cancellation, then an AudioWorklet
// (audio-worklet.js) that turns it into the PCM16 frames the server's `hello` asks for.

const CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
};
const FRAME_MS = 20; // small frames keep the server's turn-taking responsive

export class Microphone {
  // handlers: {frame(pcm ArrayBuffer), level(0..1), ready(), problem(kind, error)}
  constructor(handlers) {
    this.handlers = handlers;
    this.state = "off"; // off | starting | on | unavailable
    this.parts = null; // {stream, source, node, sink}
  }

  get unavailable() {
    return this.state === "unavailable";
  }

  fail(kind, error) {
    this.state = "unavailable";
    this.handlers.problem(kind, error);
  }

  // `format`: hello.input_audio ({sample_rate_hz, channels, sample_format}).
  async start(context, format) {
    if (this.state !== "off") return;
    this.state = "starting";
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !context || !context.audioWorklet) {
      this.fail("unsupported");
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia(CONSTRAINTS);
    } catch (error) {
      const kind = error && error.name === "NotFoundError" ? "missing"
        : error && (error.name === "NotAllowedError" || error.name === "SecurityError") ? "denied"
        : "failed";
      this.fail(kind, error);
      return;
    }
    try {
      await context.audioWorklet.addModule(new URL("./audio-worklet.js", import.meta.url));
      const source = context.createMediaStreamSource(stream);
      const outRateHz = format.sample_rate_hz;
      const node = new AudioWorkletNode(context, "pcm16-downsampler", {
        channelCount: 1,
        channelCountMode: "explicit",
        processorOptions: { outRateHz, frameSamples: Math.round((outRateHz * FRAME_MS) / 1000) },
      });
      // The worklet must be pulled by the graph to run; a muted sink keeps the mic inaudible.
      const sink = context.createGain();
      sink.gain.value = 0;
      source.connect(node).connect(sink).connect(context.destination);
      node.port.onmessage = (message) => {
        this.handlers.level(message.data.level);
        this.handlers.frame(message.data.pcm);
      };
      this.parts = { stream, source, node, sink };
      this.state = "on";
      for (const track of stream.getAudioTracks()) {
        track.addEventListener("ended", () => {
          this.stop();
          this.fail("ended");
        });
      }
      this.handlers.ready();
    } catch (error) {
      for (const track of stream.getTracks()) track.stop();
      this.fail("failed", error);
    }
  }

  stop() {
    if (!this.parts) return;
    const { stream, source, node, sink } = this.parts;
    node.port.onmessage = null;
    source.disconnect();
    node.disconnect();
    sink.disconnect();
    for (const track of stream.getTracks()) track.stop();
    this.parts = null;
    this.state = "off";
    this.handlers.level(0);
  }
}
