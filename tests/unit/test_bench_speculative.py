"""The pure parts of bench/speculative.py: the first sentence, the turns, the summary."""

from __future__ import annotations

from typing import Any

from bench.speculative import first_sentence_end, interview_turns, summary


def test_a_first_sentence_ends_at_a_terminator_then_a_space_or_the_end() -> None:
    assert not first_sentence_end("Thanks for that", final=False)
    assert not first_sentence_end("Thanks for that.", final=False)  # not certain until what follows
    assert first_sentence_end("Thanks for that. ", final=False)
    assert first_sentence_end("Thanks for that.", final=True)
    assert first_sentence_end("Great! How", final=False)
    assert not first_sentence_end("Use v2.5 now", final=False)


def test_each_turn_is_prefilled_with_its_answer_but_the_last_words() -> None:
    opening, turns = interview_turns(3)
    assert [t.number for t in turns] == [1, 2, 3]
    for turn in turns:
        assert turn.messages[: len(opening)] == opening  # the read-ahead is their prefix
        assert len(turn.prefill) == len(turn.messages)
        full, spoken = turn.messages[-1].content, turn.prefill[-1].content
        assert full.startswith(spoken) and len(full.split()) == len(spoken.split()) + 4
    assert len(turns[2].messages) == len(turns[0].messages) + 4  # two more Q&A pairs


def _row(config: str, turn: int, ms: float, **extra: Any) -> dict[str, Any]:
    return {
        "config": config, "temperature": 0.0, "round": 0, "turn": turn, "ttft_ms": ms,
        "first_sentence_ms": ms, "first_unit_ms": ms, "gen_tps": 1000 / ms,
        "server_gen_tps": None, "total_ms": ms, "prefill_ms": 1.0, "acceptance": None,
        "draft_n": None, "draft_n_accepted": None, "text": "Hi.", **extra,
    }  # fmt: skip


def test_the_summary_pairs_the_same_turn_and_round() -> None:
    rows = [
        _row("plain", 1, 100.0),
        _row("plain", 2, 400.0),
        _row("drafted", 1, 200.0, acceptance=0.5, draft_n=10, draft_n_accepted=5),
        _row("drafted", 2, 400.0, acceptance=1.0, draft_n=2, draft_n_accepted=2, text="Ho."),
    ]
    block = summary(rows, [0.0])["0.0"]
    assert block["plain"]["first_sentence_ms"] == 250.0
    assert block["ratio_drafted_over_plain"]["first_sentence_ms"] == 1.5  # median of 2 and 1
    assert block["drafted"]["acceptance_pooled"] == 7 / 12
    assert block["identical_text"] == "1/2"
