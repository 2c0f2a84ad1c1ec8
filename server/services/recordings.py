"""The audio of spoken answers: kept for playback (when the server and the session allow it),
served as WAV to the session's owner only, and deleted on request or with the session.

The audio is personal data like the transcript: nothing here logs it, or the answer's text.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from dataclasses import dataclass

from server.errors import NotFound
from server.repositories.records import MessageRecord, SessionRecord
from server.repositories.sessions import RecordingRepository, SessionRepository
from server.services.sessions import SessionService
from server.settings import Settings
from server.voice.audio import PCM16_SAMPLE_WIDTH_BYTES, Pcm16

logger = logging.getLogger(__name__)

WAV_HEADER_BYTES = 44


def wav_header(pcm_bytes: int, sample_rate_hz: int, channels: int = 1) -> bytes:
    """The canonical 44-byte RIFF/WAVE header for ``pcm_bytes`` of PCM16 that follow it."""
    block_align = channels * PCM16_SAMPLE_WIDTH_BYTES
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + pcm_bytes,
        b"WAVE",
        b"fmt ",
        16,  # the PCM fmt chunk's size
        1,  # format: integer PCM
        channels,
        sample_rate_hz,
        sample_rate_hz * block_align,  # bytes per second
        block_align,
        8 * PCM16_SAMPLE_WIDTH_BYTES,
        b"data",
        pcm_bytes,
    )


@dataclass(frozen=True)
class RecordingSettings:
    """What a session keeps: ``record_audio`` is the session's choice; ``server_records`` the
    server's (``VIVA_RECORD_ANSWERS``); audio is kept only when both are on."""

    record_audio: bool
    server_records: bool
    recorded_message_ids: frozenset[int]

    @property
    def keeps_audio(self) -> bool:
        return self.record_audio and self.server_records


class RecordingService:
    def __init__(
        self,
        settings: Settings,
        sessions: SessionService,
        session_repo: SessionRepository,
        recordings: RecordingRepository,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.session_repo = session_repo
        self.recordings = recordings

    @property
    def server_records(self) -> bool:
        return self.settings.record_answers

    async def keep_answer(
        self, session: SessionRecord, answer: MessageRecord, audio: Pcm16, *, append: bool
    ) -> bool:
        """Store ``audio`` as the recording of ``answer`` (already stored); with ``append``,
        add it to the recording the answer has (the candidate went on with it).

        Never raises for a storage failure: the answer's text is what matters, and it is
        stored already. Returns whether the audio was kept.
        """
        if not (self.server_records and session.record_audio) or not audio.data:
            return False
        if audio.channels != 1:
            logger.warning("session %s: answer audio not kept (not mono)", session.public_id)
            return False
        try:
            pcm = audio.data
            if append:
                existing = await self.recordings.get(session.id, answer.id)
                if existing is None:
                    # The start of the answer was not kept (recording was off, or failed):
                    # a recording of its end alone would not be the answer.
                    logger.info(
                        "session %s: continued answer %d has no recording to extend",
                        session.public_id,
                        answer.id,
                    )
                    return False
                if existing.sample_rate_hz != audio.sample_rate_hz:
                    logger.warning(
                        "session %s: answer %d audio not extended (rate %d Hz, kept %d Hz)",
                        session.public_id,
                        answer.id,
                        audio.sample_rate_hz,
                        existing.sample_rate_hz,
                    )
                    return False
                pcm = existing.pcm + pcm
            await self.recordings.save(
                session.id, answer.id, sample_rate_hz=audio.sample_rate_hz, pcm=pcm
            )
        except asyncio.CancelledError:
            raise
        except Exception as err:
            # The type only: a database error's text may quote the statement's parameters.
            logger.warning(
                "session %s: answer %d audio not kept (%s)",
                session.public_id,
                answer.id,
                type(err).__name__,
            )
            return False
        logger.info(
            "session %s: kept answer %d audio (%d ms)",
            session.public_id,
            answer.id,
            len(pcm) * 1000 // (PCM16_SAMPLE_WIDTH_BYTES * audio.sample_rate_hz),
        )
        return True

    async def recorded_message_ids(self, session: SessionRecord) -> frozenset[int]:
        return frozenset(await self.recordings.message_ids(session.id))

    async def settings_of(self, public_id: str, owner_id: str) -> RecordingSettings:
        session = await self.sessions.get(public_id, owner_id)
        return await self._settings(session)

    async def set_record_audio(
        self, public_id: str, owner_id: str, record_audio: bool
    ) -> RecordingSettings:
        """The session's choice, from its next answer on (what was kept stays until deleted)."""
        session = await self.sessions.get(public_id, owner_id)
        await self.session_repo.set_record_audio(session.id, record_audio)
        logger.info(
            "session %s: answer recording turned %s", public_id, "on" if record_audio else "off"
        )
        return await self._settings(await self.sessions.get(public_id, owner_id))

    async def delete_all(self, public_id: str, owner_id: str) -> None:
        session = await self.sessions.get(public_id, owner_id)
        await self.recordings.delete_for_session(session.id)
        logger.info("session %s: answer recordings deleted", public_id)

    async def wav_of(self, public_id: str, owner_id: str, message_id: int) -> bytes:
        """One answer's recording as a WAV file; anyone else's answers like a missing one."""
        session = await self.sessions.get(public_id, owner_id)
        # An id no row can have (past a 64-bit integer) is missing too, not a database error.
        fits = 0 < message_id < 2**63
        recording = await self.recordings.get(session.id, message_id) if fits else None
        if recording is None:
            raise NotFound("This answer has no recording.")
        return wav_header(len(recording.pcm), recording.sample_rate_hz) + recording.pcm

    async def _settings(self, session: SessionRecord) -> RecordingSettings:
        return RecordingSettings(
            record_audio=session.record_audio,
            server_records=self.server_records,
            recorded_message_ids=await self.recorded_message_ids(session),
        )
