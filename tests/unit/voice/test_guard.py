"""InputGuard and FloodGuard alone: frame durations and timestamps in, verdicts out."""

from __future__ import annotations

from server.voice.config import VoiceConfig
from server.voice.guard import FloodGuard, InputGuard

FRAME_S = 1 / 64
"""15.625 ms frames: their sums are exact, so the boundaries can be tested exactly."""


def burst(guard: FloodGuard | InputGuard, frames: int, now: float) -> list[bool]:
    admit = guard.admit if isinstance(guard, FloodGuard) else guard.admit_audio
    return [admit(FRAME_S, now) for _ in range(frames)]


def test_a_burst_within_max_ahead_is_admitted_and_beyond_it_dropped() -> None:
    guard = FloodGuard(max_ahead_s=2.0, close_after_s=10.0)
    verdicts = burst(guard, 138, now=0.0)
    assert verdicts == [True] * 128 + [False] * 10
    assert guard.dropped_s == 10 * FRAME_S
    assert not guard.abusive


def test_the_bucket_drains_at_real_time() -> None:
    guard = FloodGuard(max_ahead_s=2.0, close_after_s=10.0)
    assert all(burst(guard, 128, now=0.0))
    assert not guard.admit(FRAME_S, 0.0)
    # Half a second later, half a second more fits, and no more.
    assert burst(guard, 33, now=0.5) == [True] * 32 + [False]


def test_real_time_audio_is_never_dropped() -> None:
    guard = FloodGuard(max_ahead_s=2.0, close_after_s=10.0)
    for i in range(30_000):  # 10 minutes of 20 ms frames, some arriving 15 ms late
        assert guard.admit(0.02, i * 0.02 + (0.015 if i % 7 == 0 else 0.0))
    assert guard.dropped_s == 0


def test_idling_builds_no_credit() -> None:
    guard = FloodGuard(max_ahead_s=2.0, close_after_s=10.0)
    guard.admit(FRAME_S, 0.0)
    assert burst(guard, 129, now=600.0) == [True] * 128 + [False]


def test_dropped_audio_beyond_close_after_is_flooding_and_it_decays() -> None:
    guard = InputGuard(VoiceConfig(flood_max_ahead_ms=2000, flood_close_after_ms=10_000))
    assert all(burst(guard, 128, now=0.0))
    assert not any(burst(guard, 640, now=0.0))  # exactly 10 s dropped: not over yet
    assert not guard.flooding
    assert not guard.admit_audio(FRAME_S, 0.0)
    assert guard.flooding
    # Dropped audio decays at 10 % of real time: 1 s later it is back under the limit.
    guard.admit_audio(FRAME_S, 1.0)
    assert not guard.flooding
    assert guard.flood.dropped_s < 10.0


def test_protocol_errors_close_only_on_a_real_burst() -> None:
    guard = InputGuard(VoiceConfig(max_error_burst=20))
    assert [guard.protocol_error(0.0) for _ in range(20)] == [False] * 20
    assert guard.protocol_error(0.5)  # 20 - 0.5 + 1 > 20
    guard = InputGuard(VoiceConfig(max_error_burst=20))
    assert not any(guard.protocol_error(0.0) for _ in range(20))
    assert not guard.protocol_error(1.0)  # one decayed: room for one more


def test_protocol_errors_decay_one_per_second() -> None:
    guard = InputGuard(VoiceConfig(max_error_burst=20))
    # An error a second, for an hour, never adds up; nor do 10 a burst every 10 s.
    assert not any(guard.protocol_error(float(t)) for t in range(3600))
    assert not any(
        guard.protocol_error(3600.0 + 10 * burst_no) for burst_no in range(100) for _ in range(10)
    )
    # After quiet time the whole budget is back.
    assert not any(guard.protocol_error(10_000.0) for _ in range(20))
    assert guard.protocol_error(10_000.0)


def test_flood_is_reported_at_most_once_a_second() -> None:
    guard = InputGuard(VoiceConfig())
    assert guard.flood_report_due(100.0)
    assert not guard.flood_report_due(100.2)
    assert not guard.flood_report_due(100.99)
    assert guard.flood_report_due(101.0)
    assert not guard.flood_report_due(101.5)
    assert guard.flood_report_due(103.0)


def test_start_and_retry_come_in_a_short_burst_then_one_per_refill() -> None:
    guard = InputGuard(VoiceConfig(max_replay_burst=3, replay_refill_s=10.0))
    assert [guard.replay(0.0) for _ in range(4)] == [True, True, True, False]
    assert not guard.replay(5.0)  # half a refill
    assert guard.replay(10.5)
    assert not guard.replay(10.6)
    assert [guard.replay(100.0) for _ in range(4)] == [True, True, True, False]
