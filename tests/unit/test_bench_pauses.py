"""The pause set's scoring and its pause insertion (bench/pauses.py), without the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from bench.pauses import Item, Outcome, render_item, score, summarize
from bench.stt_audio import Rendering
from server.voice.audio import INPUT_SAMPLE_RATE_HZ, Pcm16

SR = INPUT_SAMPLE_RATE_HZ


def _item(kind: Any, pause_ms: int, resume: int, speech_end: int) -> Item:
    return Item(kind, "piper", ("a", "b"), pause_ms, Pcm16(b"", SR), resume, speech_end)


def test_a_turn_ended_before_the_candidate_resumed_is_a_cut_off() -> None:
    item = _item("mid-sentence", 1500, resume=3 * SR, speech_end=5 * SR)
    assert score(item, Outcome(2 * SR, "complete", ()))["cut"] is True
    assert score(item, Outcome(6 * SR, "silence", ()))["cut"] is False
    finished = _item("complete", 0, resume=5 * SR, speech_end=4 * SR)
    row = score(finished, Outcome(4 * SR + SR // 2, "complete", ()))
    assert row["cut"] is False and row["delay_ms"] == 500


def test_summary_rates_and_delays() -> None:
    rows = [
        {
            "kind": "mid-sentence",
            "cut": True,
            "pause_ms": 1000,
            "model_ms": [100.0],
            "resume_ms": 3000,
            "end_ms": 2500,
        },
        {"kind": "mid-sentence", "cut": False, "pause_ms": 1000, "model_ms": []},
        {"kind": "between sentences", "cut": False, "pause_ms": 700, "model_ms": []},
        {"kind": "complete", "cut": False, "delay_ms": 300, "pause_ms": 0, "model_ms": [90.0]},
        {"kind": "complete", "cut": False, "delay_ms": None, "pause_ms": 0, "model_ms": []},
    ]
    s = summarize(rows)
    assert s["cut_off_rate"] == 0.5 and s["cut_off_by_pause"]["1000"] == 0.5
    assert s["split_rate"] == 0.0 and s["complete_never_ended"] == 1
    assert s["delay_p50_ms"] == 300 and s["model_calls"] == 2
    assert s["false_ends"] == 1 and s["discarded_reply_s_per_answer"] == 0.5 / 5


class _ToneRenderer:
    """Two tone bursts with a 60 ms gap where the comma is: what a TTS does with one."""

    def render(self, rendering: Rendering, parts: list[str]) -> Pcm16:
        t = np.arange(SR) / SR
        tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        lead, gap = np.zeros(SR // 4, np.float32), np.zeros(int(0.06 * SR), np.float32)
        return Pcm16.from_float32(np.concatenate([lead, tone, gap, tone, lead]), SR)


def test_the_comma_gap_is_stretched_to_the_pause(tmp_path: Path) -> None:
    item = render_item(
        _ToneRenderer(),  # type: ignore[arg-type]
        Rendering("tones", "piper"),
        "mid-sentence",
        ("first half,", "second half."),
        1500,
    )
    x = item.audio.to_float32()
    assert len(x) == SR // 4 * 2 + 2 * SR + int(1.5 * SR)  # the 60 ms gap became 1.5 s
    gap = x[item.resume_sample - int(1.4 * SR) : item.resume_sample]
    assert float(np.abs(gap).max()) == 0.0  # silence right up to where speech resumes
    assert float(np.abs(x[item.resume_sample : item.resume_sample + 160]).max()) > 0.1
    assert item.speech_end_sample > item.resume_sample


def test_an_interview_carries_what_a_cut_off_teaches_to_the_answers_after_it(
    monkeypatch: Any,
) -> None:
    import bench.pauses as pauses

    mids = [
        Item("mid-sentence", "piper", (f"{n}a", f"{n}b"), p, Pcm16(b"", SR), 3 * SR, 5 * SR)
        for n in range(3)
        for p in pauses.PAUSES_MS
    ]
    finished = [_item("complete", 0, resume=5 * SR, speech_end=4 * SR) for _ in range(2)]
    patience_seen: list[int] = []

    def fake_simulate(audio: Any, *args: Any, patience: int = 0) -> Outcome:
        # Cut at a pause 1 s long (voice end at 2 s, resumed at 3 s) unless it learned one.
        patience_seen.append(patience)
        if patience >= SR:
            return Outcome(6 * SR, "settled", (), voice_end=5 * SR)
        return Outcome(2 * SR + SR // 2, "complete", (), voice_end=2 * SR)

    monkeypatch.setattr(pauses, "simulate", fake_simulate)
    policy = pauses.Policy("default", semantic=True, silence_ms=3000)
    result = pauses.interviews([*mids, *finished], None, None, policy)  # type: ignore[arg-type]
    assert result["interviews"] == len(pauses.PAUSES_MS)
    mid_rows = [r for r in result["rows"] if r["kind"] == "mid-sentence"]
    assert len(mid_rows) == len(mids)  # each thinking pause in exactly one interview
    # One cut-off per interview; it teaches 1.5 s, and the same pause is not cut again.
    assert result["with_a_cut_off"] == len(pauses.PAUSES_MS)
    assert result["cut_offs_after_the_first"] == 0
    assert max(patience_seen) == 3 * SR // 2
    assert result["cut_off_rate"] == 1 / 3
