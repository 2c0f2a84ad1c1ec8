"""The composition root: every engine, repository, service and cap of the app is built here and
only here. The app factory enters ``open_container`` in its lifespan; tests, scripts and
benchmarks build the same pieces with the same functions (``chat_model``, ``load_speech``,
``build_services``) instead of repeating their wiring.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from server.ai.llm import ChatModel, OpenAIChatModel
from server.database import migrate
from server.feedback.notes import NOTES_CONVERSATION, AnswerNotes
from server.feedback.service import FeedbackService
from server.repositories.feedback import FeedbackRepository
from server.repositories.leases import VoiceLeaseRepository
from server.repositories.sessions import (
    MessageRepository,
    RecordingRepository,
    SessionRepository,
)
from server.services.acknowledgement import stock_phrases
from server.services.activity import InterviewActivity
from server.services.conversation import InterviewConversation
from server.services.corrections import CorrectionService
from server.services.interview import InterviewEngine
from server.services.quotas import SocketCaps
from server.services.recordings import RecordingService
from server.services.revisions import AnswerRevisions
from server.services.sessions import SessionService
from server.settings import Settings
from server.voice.connections import VoiceConnections
from server.voice.engines import SpeechEngines, load_speech_engines, warm_phrases

if TYPE_CHECKING:
    from server.ai.embedded import EmbeddedLlamaServer


@dataclass(frozen=True)
class Services:
    """Everything the routes use, built once per app (``open_container``)."""

    settings: Settings
    llm: ChatModel
    sessions: SessionService
    interview: InterviewEngine
    feedback: FeedbackService
    corrections: CorrectionService
    notes: AnswerNotes
    recordings: RecordingService
    revisions: AnswerRevisions
    voice_connections: VoiceConnections
    speech: SpeechEngines | None = None  # None: no voice on this server (typed answers only)

    def conversation(self, public_id: str, owner_id: str) -> InterviewConversation:
        """Interview ``public_id`` as a voice session sees it (``server.voice.conversation``)."""
        return InterviewConversation(
            self.interview,
            self.sessions,
            public_id=public_id,
            owner_id=owner_id,
            max_answer_chars=self.settings.max_answer_chars,
            recordings=self.recordings,
            revisions=self.revisions,
        )


def build_services(
    settings: Settings, llm: ChatModel, *, speech: SpeechEngines | None = None
) -> Services:
    """The repositories, services and caps over ``llm`` (and ``speech``, if any)."""
    session_repo = SessionRepository()
    message_repo = MessageRepository()
    activity = InterviewActivity()
    notes = AnswerNotes(llm, activity)
    sessions = SessionService(settings, session_repo, message_repo, on_delete=notes.forget)
    feedback = FeedbackService(
        llm,
        sessions,
        session_repo,
        message_repo,
        FeedbackRepository(),
        notes,
        model_may_adjust_score=settings.llm_may_adjust_score,
    )
    return Services(
        settings=settings,
        llm=llm,
        sessions=sessions,
        interview=InterviewEngine(
            llm,
            session_repo,
            message_repo,
            after_reply=notes.schedule if settings.notes_during_interview else None,
            activity=activity,
            first_words_in_turn=settings.llm_first_words_in_turn,
            first_words_wait_s=settings.llm_reply_timeout_s,
            acknowledge_answers=settings.acknowledge_answers,
        ),
        feedback=feedback,
        corrections=CorrectionService(
            sessions, message_repo, feedback, max_answer_chars=settings.max_answer_chars
        ),
        notes=notes,
        recordings=RecordingService(settings, sessions, session_repo, RecordingRepository()),
        revisions=AnswerRevisions(
            message_repo,
            FeedbackRepository(),
            notes if settings.notes_during_interview else None,
        ),
        voice_connections=VoiceConnections(
            SocketCaps(
                per_owner=settings.max_voice_per_owner, total=settings.max_voice_connections
            ),
            VoiceLeaseRepository(),
        ),
        speech=speech,
    )


def chat_model(settings: Settings, embedded: EmbeddedLlamaServer | None = None) -> OpenAIChatModel:
    """The interviewer's model client: the embedded llama.cpp server's when given, else the
    OpenAI-compatible endpoint of ``VIVA_LLM_BASE_URL``."""
    return OpenAIChatModel(
        base_url=embedded.base_url if embedded is not None else settings.llm_base_url,
        api_key="" if embedded is not None else settings.llm_api_key,
        model=settings.llm_profile if embedded is not None else settings.llm_model,
        timeout_s=settings.llm_timeout_s,
        max_retries=settings.llm_max_retries,
        reply_timeout_s=settings.llm_reply_timeout_s,
        prefill=settings.llm_prefill,
        # The embedded server's slots are known: one interview per slot, and the notes
        # (written while the interview goes on) keep a slot of their own.
        slots=embedded.slots if embedded is not None else 0,
        dedicated_slots=(NOTES_CONVERSATION,) if embedded is not None else (),
    )


async def load_speech(settings: Settings) -> SpeechEngines:
    """Whisper, Piper, Silero (and Smart Turn, and the second-pass Whisper) as ``settings``
    ask, loaded off the event loop and warmed."""
    return await load_speech_engines(
        stt_model_dir=settings.stt_model_dir or None,
        stt_model=settings.stt_model,
        models_dir=settings.models_dir,
        stt_keep_fillers=settings.stt_keep_fillers,
        second_pass_model=settings.stt_second_pass_model if settings.stt_second_pass else None,
        turn_model=settings.turn_model != "off",
        stt_device=settings.stt_device,
        stt_compute_type=settings.stt_compute_type,
        stt_beam_size=settings.stt_beam_size,
        tts_voice_path=settings.tts_voice_path or None,
        tts_phrases=stock_phrases() if settings.tts_phrase_cache else (),
        cpu_threads=settings.llm_threads,
    )


@asynccontextmanager
async def open_container(
    settings: Settings, *, llm: ChatModel | None = None, speech: SpeechEngines | None = None
) -> AsyncIterator[Services]:
    """Migrate, start the engines ``llm`` and ``speech`` do not replace (the LLM embedded
    unless a base URL is set; the speech models load in worker threads meanwhile), build the
    services; on exit, close what was started here."""
    if settings.migrate_on_startup:
        await migrate()
    speech_loading = (
        asyncio.create_task(load_speech(settings))
        if speech is None and settings.load_speech_models
        else None
    )
    embedded = None
    own_llm: OpenAIChatModel | None = None
    warming: asyncio.Task[None] | None = None
    try:
        if llm is None:
            if settings.embedded_llm:
                from server.ai.embedded import start_embedded_llm

                embedded = await start_embedded_llm(settings)
            llm = own_llm = chat_model(settings, embedded)
        if speech_loading is not None:
            speech = await speech_loading
            # In the background: serving does not wait for the interviewer's stock phrases.
            warming = asyncio.create_task(warm_phrases(speech), name="warm-phrases")
        yield build_services(settings, llm, speech=speech)
    finally:
        if speech_loading is not None and not speech_loading.done():
            speech_loading.cancel()
        if warming is not None:
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
        if own_llm is not None:
            await own_llm.aclose()
        if embedded is not None:
            embedded.stop()
