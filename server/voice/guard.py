"""InputGuard: how much one connection may send before its frames are dropped or it is closed.

Three budgets, all leaky so that an honest client never exhausts them: audio may run at most
``flood_max_ahead_ms`` ahead of real time (network bursts), protocol errors decay one per
second, and ``start``/``retry`` (each speaks the question again, a second of speech synthesis)
come in a short burst, then one per ``replay_refill_s``. Pure and synchronous: the session
asks, and acts on the answers.
"""

from __future__ import annotations

from server.voice.config import VoiceConfig


class FloodGuard:
    """Leaky bucket over audio duration: drains at real time, so no credit builds while idle."""

    def __init__(self, max_ahead_s: float, close_after_s: float) -> None:
        self.max_ahead_s = max_ahead_s
        self.close_after_s = close_after_s
        self.level_s = 0.0
        self.dropped_s = 0.0
        self._last: float | None = None

    def admit(self, duration_s: float, now: float) -> bool:
        if self._last is not None:
            elapsed = max(0.0, now - self._last)
            self.level_s = max(0.0, self.level_s - elapsed)
            self.dropped_s = max(0.0, self.dropped_s - 0.1 * elapsed)
        self._last = now
        if self.level_s + duration_s > self.max_ahead_s:
            self.dropped_s += duration_s
            return False
        self.level_s += duration_s
        return True

    @property
    def abusive(self) -> bool:
        return self.dropped_s > self.close_after_s


class LeakyCount:
    """Events that drain one per ``refill_s``; ``take`` says whether one more fits ``burst``."""

    def __init__(self, burst: float, refill_s: float) -> None:
        self.burst = burst
        self.refill_s = refill_s
        self.level = 0.0
        self._at: float | None = None

    def take(self, now: float) -> bool:
        if self._at is not None:
            self.level = max(0.0, self.level - (now - self._at) / self.refill_s)
        self._at = now
        if self.level + 1 > self.burst:
            return False
        self.level += 1
        return True


class InputGuard:
    """The flood budget for audio and the burst budget for malformed frames."""

    FLOOD_REPORT_EVERY_S = 1.0
    """At most one ``audio_flood`` error event per second."""

    def __init__(self, config: VoiceConfig) -> None:
        self.flood = FloodGuard(
            config.flood_max_ahead_ms / 1000, config.flood_close_after_ms / 1000
        )
        self.max_error_burst = config.max_error_burst
        self._error_level = 0.0
        self._error_level_at: float | None = None
        self._last_flood_report = float("-inf")
        self._replays = LeakyCount(config.max_replay_burst, config.replay_refill_s)

    def admit_audio(self, duration_s: float, now: float) -> bool:
        """Whether a frame of this duration may be processed (else it is dropped)."""
        return self.flood.admit(duration_s, now)

    def flood_report_due(self, now: float) -> bool:
        """Frames were dropped: whether to tell the client now (rate-limited)."""
        if now - self._last_flood_report < self.FLOOD_REPORT_EVERY_S:
            return False
        self._last_flood_report = now
        return True

    @property
    def flooding(self) -> bool:
        """Dropped audio has piled up past the limit: close the connection."""
        return self.flood.abusive

    def protocol_error(self, now: float) -> bool:
        """Count one malformed frame; True when the burst is over budget (close)."""
        if self._error_level_at is not None:
            self._error_level = max(0.0, self._error_level - (now - self._error_level_at))
        self._error_level_at = now
        self._error_level += 1
        return self._error_level > self.max_error_burst

    def replay(self, now: float) -> bool:
        """A ``start`` or ``retry``: whether it may speak (else it is refused)."""
        return self._replays.take(now)
