"""Protocol v1: every control message, every way to get one wrong, and the binary frames."""

from __future__ import annotations

import pytest

from server.voice import protocol as p
from server.voice.protocol import ProtocolError, decode_audio_frame, decode_client_message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"type":"start"}', p.Start()),
        ('{"type":"start","protocol_version":1}', p.Start(protocol_version=1)),
        ('{"type":"retry"}', p.Retry()),
        ('{"type":"ptt_down"}', p.PttDown()),
        ('{"type":"ptt_up"}', p.PttUp()),
        ('{"type":"mute"}', p.Mute()),
        ('{"type":"unmute"}', p.Unmute()),
        ('{"type":"end_interview"}', p.EndInterview()),
        ('{"type":"typed_answer","text":"I like Rust."}', p.TypedAnswer(text="I like Rust.")),
        ('{"type":"settings"}', p.Settings()),
        ('{"type":"settings","mode":"ptt"}', p.Settings(mode="ptt")),
        (
            '{"type":"settings","mode":"vad","silence_ms":300}',
            p.Settings(mode="vad", silence_ms=300),
        ),
        ('{"type":"settings","silence_ms":10000}', p.Settings(silence_ms=10000)),
        ('{"type":"settings","voice_speed":0.5}', p.Settings(voice_speed=0.5)),
        ('{"type":"settings","voice_speed":2}', p.Settings(voice_speed=2.0)),
        ('{"type":"settings","voice_speed":1.25,"silence_ms":null}', p.Settings(voice_speed=1.25)),
    ],
)
def test_valid_messages(text: str, expected: p.ClientMessage) -> None:
    assert decode_client_message(text) == expected
    assert decode_client_message(text.encode()) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "malformed_json"),
        ("{", "malformed_json"),
        ("start", "malformed_json"),
        ('{"type":"start",}', "malformed_json"),
        ("[]", "bad_message"),
        ('"start"', "bad_message"),
        ("null", "bad_message"),
        ("{}", "bad_message"),
        ('{"type":7}', "bad_message"),
        ('{"type":null}', "bad_message"),
        ('{"type":"dance"}', "unknown_type"),
        ('{"type":"START"}', "unknown_type"),
        ('{"type":"start","extra":1}', "invalid_value"),
        ('{"type":"start","protocol_version":"1"}', "invalid_value"),
        ('{"type":"start","protocol_version":2}', "unsupported_version"),
        ('{"type":"settings","mode":"auto"}', "invalid_value"),
        ('{"type":"settings","silence_ms":299}', "invalid_value"),
        ('{"type":"settings","silence_ms":10001}', "invalid_value"),
        ('{"type":"settings","silence_ms":-1}', "invalid_value"),
        ('{"type":"settings","silence_ms":700.5}', "invalid_value"),
        ('{"type":"settings","silence_ms":"700"}', "invalid_value"),
        ('{"type":"settings","silence_ms":true}', "invalid_value"),
        ('{"type":"settings","voice_speed":0.49}', "invalid_value"),
        ('{"type":"settings","voice_speed":2.01}', "invalid_value"),
        ('{"type":"settings","voice_speed":"fast"}', "invalid_value"),
        ('{"type":"typed_answer"}', "invalid_value"),
        ('{"type":"typed_answer","text":""}', "invalid_value"),
        ('{"type":"typed_answer","text":"   \\n "}', "invalid_value"),
        ('{"type":"typed_answer","text":42}', "invalid_value"),
        ('{"type":"ptt_down","now":true}', "invalid_value"),
    ],
)
def test_invalid_messages(text: str, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_client_message(text)
    assert caught.value.code == code
    assert caught.value.message  # always says what is wrong


def test_range_errors_name_the_field() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_client_message('{"type":"settings","silence_ms":50}')
    assert "silence_ms" in caught.value.message
    assert "300" in caught.value.message


def test_typed_answer_length_limit() -> None:
    ok = "x" * p.MAX_ANSWER_CHARS
    assert decode_client_message(p.encode_client_message(p.TypedAnswer(text=ok))) == p.TypedAnswer(
        text=ok
    )
    with pytest.raises(ProtocolError) as caught:
        decode_client_message(p.encode_client_message(p.TypedAnswer(text=ok + "x")))
    assert caught.value.code == "invalid_value"


def test_oversized_control_message() -> None:
    text = '{"type":"typed_answer","text":"' + "x" * p.MAX_TEXT_FRAME_BYTES + '"}'
    with pytest.raises(ProtocolError) as caught:
        decode_client_message(text)
    assert caught.value.code == "message_too_large"


def test_audio_frame_valid() -> None:
    frame = decode_audio_frame(b"\x01\x00" * 320)
    assert (frame.sample_rate_hz, frame.channels, frame.num_frames) == (16_000, 1, 320)
    assert frame.duration_ms == pytest.approx(20.0)
    assert (
        decode_audio_frame(b"\x00" * p.MAX_AUDIO_FRAME_BYTES).num_frames
        == p.MAX_AUDIO_FRAME_BYTES // 2
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "bad_audio_frame"),
        (b"\x00", "bad_audio_frame"),
        (b"\x00" * 641, "bad_audio_frame"),
        (b"\x00" * (p.MAX_AUDIO_FRAME_BYTES + 2), "audio_frame_too_large"),
    ],
)
def test_audio_frame_invalid(data: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_audio_frame(data)
    assert caught.value.code == code


def test_server_events_round_trip_as_tagged_json() -> None:
    events: list[p.ServerEvent] = [
        p.Hello(
            session_id="s1",
            tts_sample_rate_hz=22050,
            input_audio=p.AudioFormat(sample_rate_hz=16000),
            output_audio=p.AudioFormat(sample_rate_hz=22050),
            settings=p.SettingsState(mode="vad", silence_ms=700, voice_speed=1.0, muted=False),
        ),
        p.State(state="hearing"),
        p.PartialTranscript(turn=1, text="I think"),
        p.FinalTranscript(turn=1, text="I think so.", source="voice"),
        p.TurnDiscarded(turn=2, reason="no_speech"),
        p.InterviewerSentence(message=1, index=0, text="Hi.", audio_offset_ms=0),
        p.AudioStart(message=1, sample_rate_hz=22050),
        p.AudioEnd(message=1, duration_ms=1200),
        p.FlushPlayback(message=1),
        p.ProgressEvent(question=2, total=8, awaiting="answer"),
        p.TurnTimings(turn=1, reference="speech_end", timings_ms={"first_audio_ms": 1234.5}),
        p.ErrorEvent(code="busy", message="wait", retryable=False),
        p.InterviewFinished(question=8, total=8),
        p.SettingsChanged(
            settings=p.SettingsState(mode="ptt", silence_ms=900, voice_speed=1.2, muted=True)
        ),
    ]
    for event in events:
        text = p.encode_server_event(event)
        assert text.startswith('{"type":"')
        assert p.decode_server_event(text) == event
    assert p.encode_server_event(p.State(state="speaking")) == '{"type":"state","state":"speaking"}'


def test_close_codes_are_distinct_and_in_the_application_range() -> None:
    custom = [
        p.CLOSE_UNSUPPORTED_PROTOCOL,
        p.CLOSE_NOT_OWNER,
        p.CLOSE_UNKNOWN_SESSION,
        p.CLOSE_UNUSABLE,
        p.CLOSE_REPLACED,
    ]
    assert len(set(custom)) == len(custom)
    assert all(4000 <= code <= 4999 for code in custom)
    assert (p.CLOSE_NOT_OWNER, p.CLOSE_UNKNOWN_SESSION, p.CLOSE_UNUSABLE) == (4403, 4404, 4408)
