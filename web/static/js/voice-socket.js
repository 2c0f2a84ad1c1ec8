// The interview's voice WebSocket (docs/protocol.md): connects, reconnects with back-off
// after a failure, and hands text events and binary audio to its owner. What the codes and
// limits mean comes from the server's `hello`, never from constants repeated here.

const RECONNECT_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

function socketUrl(sessionId) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws/sessions/${encodeURIComponent(sessionId)}`;
}

export class VoiceSocket {
  // handlers: {event(object), audio(ArrayBuffer), hello(object), unavailable(closeEvent),
  //            closed(closeEvent), disconnected(closeEvent), reconnecting(attempt, delayMs)}
  constructor(sessionId, handlers) {
    this.sessionId = sessionId;
    this.handlers = handlers;
    this.socket = null;
    this.ready = false; // hello received on the current socket
    this.everReady = false;
    this.stopped = false; // closed by us, or the interview is over
    this.attempt = 0;
    this.timer = null;
    this.noReconnect = new Set(); // from hello
  }

  get isOpen() {
    return Boolean(this.ready && this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  connect() {
    window.clearTimeout(this.timer);
    const socket = new WebSocket(socketUrl(this.sessionId));
    socket.binaryType = "arraybuffer";
    this.socket = socket;
    this.ready = false;
    socket.addEventListener("message", (message) => {
      if (socket !== this.socket) return;
      if (typeof message.data === "string") this.onText(message.data);
      else this.handlers.audio(message.data);
    });
    socket.addEventListener("close", (event) => {
      if (socket === this.socket) this.onClose(event);
    });
  }

  onText(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    if (!event || typeof event !== "object") return;
    if (event.type === "hello") {
      this.ready = true;
      this.attempt = 0;
      this.noReconnect = new Set(event.no_reconnect_close_codes || []);
      const first = !this.everReady;
      this.everReady = true;
      this.handlers.hello(event, first);
      return;
    }
    this.handlers.event(event);
  }

  send(message) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  sendAudio(pcm) {
    if (!this.isOpen) return false;
    this.socket.send(pcm);
    return true;
  }

  onClose(event) {
    this.ready = false;
    if (this.stopped) return;
    if (!this.everReady) {
      // Never spoke the protocol: this server has no voice (or the socket cannot get through).
      this.handlers.unavailable(event);
      return;
    }
    this.handlers.closed(event);
    if (this.noReconnect.has(event.code)) {
      this.handlers.disconnected(event);
      return;
    }
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
    this.attempt += 1;
    this.handlers.reconnecting(this.attempt, delay);
    this.timer = window.setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    this.attempt = 0;
    this.connect();
  }

  // No more reconnects: the interview is over (the socket may still deliver its last events).
  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
  }

  close() {
    this.stop();
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) this.socket.close(1000);
  }
}
