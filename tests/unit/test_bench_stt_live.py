"""The speech benchmark's live measures: an ending is lost when the last words are dropped
(not when they are misheard), and a phrase is doubled when it is heard more often than said."""

from __future__ import annotations

from bench.stt_live import doubled_phrases, ending_kept, summarize_live


def test_an_answer_that_stops_short_lost_its_ending() -> None:
    said = "and afterwards I write a short, blameless review with action items."
    assert not ending_kept(said, "and afterwards I write a short,")
    assert not ending_kept("instead of waiting until the end.", "instead of waiting until")
    assert not ending_kept(said, "and afterwards I write a short blameless review with action")


def test_a_misheard_or_reworded_ending_is_still_an_ending() -> None:
    said = "and we kept SQS because it met the throughput target."
    assert ending_kept(said, said)
    assert ending_kept(said, "and we kept SQS because it met the throughput targets")
    assert ending_kept(said, "and we kept SQS because it met the throughput target. Thank you.")
    assert ending_kept(said, "we kept it because it met the target")


def test_a_phrase_said_once_and_stored_twice_is_doubled() -> None:
    said = "Oh, I'm originally from Chicago. I moved here for the job."
    twice = "Oh, I'm originally from Chicago. Oh, I'm originally from Chicago. I moved here."
    assert doubled_phrases(said, said) == 0
    assert doubled_phrases(said, twice) >= 1
    refrain = "again and again and again we shipped"
    assert doubled_phrases(refrain, refrain) == 0  # said twice, heard twice


def _row(wer_live: str, stored: str, whole: str, reference: str) -> dict[str, object]:
    def part(text: str) -> dict[str, object]:
        return {
            "text": text,
            "term_hits": 0,
            "terms_said": 0,
            "ending_kept": ending_kept(reference, text),
            "doubled": doubled_phrases(reference, text),
        }

    return {
        "reference": reference,
        "tail_ms": 300,
        "second_pass_ms": 900,
        "revised": stored != wer_live,
        "live": part(wer_live),
        "stored": part(stored),
        "whole_file": part(whole),
    }


def test_the_summary_compares_what_is_stored_with_the_whole_file() -> None:
    reference = "one two three four five six seven eight nine ten"
    whole = "one two three four five six x eight nine ten"
    rows = [_row("one two three four five six seven", reference, whole, reference)]
    summary = summarize_live(rows)
    assert summary["live"]["wer"] == 0.3
    assert summary["stored"]["wer"] == 0.0
    assert summary["whole_file"]["wer"] == 0.1
    assert summary["stored_vs_whole_file"] == 0.0
    assert summary["live_vs_whole_file"] == 3.0
    assert summary["live"]["endings_kept"] == 0 and summary["stored"]["endings_kept"] == 1
    assert summary["revised"] == 1
