"""The voice WebSocket: one per interview, speaking protocol v1 (docs/protocol.md).

A raw ``@websocket`` handler, because the socket carries binary audio and JSON control
frames both ways. The handler authorizes, wires a ``VoiceSession`` to the socket and the
interview, and pumps frames; everything about turns lives in ``server.voice``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from server.errors import NotFound
from server.services.conversation import InterviewConversation
from server.services.interview import InterviewEngine
from server.services.sessions import SessionService
from server.services.vocabulary import interview_vocabulary
from server.settings import Settings
from server.voice.audio import Pcm16
from server.voice.config import VoiceConfig
from server.voice.connections import VoiceConnections
from server.voice.engines import SpeechEngines
from server.voice.protocol import (
    CLOSE_INTERNAL_ERROR,
    CLOSE_NOT_OWNER,
    CLOSE_TOO_MANY,
    CLOSE_UNKNOWN_SESSION,
    ServerEvent,
    encode_server_event,
)
from server.voice.session import VoiceSession
from server.voice.vocabulary import Vocabulary

logger = logging.getLogger(__name__)


@websocket("/ws/sessions/{session_id:str}")
async def voice_socket(
    socket: WebSocket[Any, Any, State],
    session_id: FromPath[str],
    sessions: NamedDependency[SessionService],
    interview: NamedDependency[InterviewEngine],
    settings: NamedDependency[Settings],
    speech: NamedDependency[SpeechEngines | None],
    voice_connections: NamedDependency[VoiceConnections],
    conversations: NamedDependency[Callable[[str, str], InterviewConversation]],
) -> None:
    await socket.accept()
    owner_id: str | None = socket.scope.get("state", {}).get("owner_id")
    if owner_id is None:
        await socket.close(code=CLOSE_NOT_OWNER, reason="No owner identity: open the app first.")
        return
    try:
        record = await sessions.get(session_id, owner_id)
    except NotFound:
        await socket.close(code=CLOSE_UNKNOWN_SESSION, reason="No such interview session.")
        return
    if speech is None:
        await socket.close(code=CLOSE_INTERNAL_ERROR, reason="Voice is not available here.")
        return

    # Known before the candidate speaks. In a thread: the first call loads the word lists.
    vocabulary = (
        await asyncio.to_thread(interview_vocabulary, record.cv_text, record.job_description_text)
        if settings.stt_bias
        else None
    )
    connections = voice_connections
    if (refused := connections.caps.open(owner_id)) is not None:
        logger.warning("session %s: voice connection refused (too many open)", session_id)
        await socket.close(code=CLOSE_TOO_MANY, reason=refused[:120])
        return
    try:
        await _voice(
            socket,
            session_id,
            record.id,
            speech,
            conversations(session_id, owner_id),
            others_busy=lambda: interview.activity.others(session_id) > 0,
            config=VoiceConfig(
                second_pass=settings.stt_second_pass, max_answer_chars=settings.max_answer_chars
            ),
            connections=connections,
            vocabulary=vocabulary,
        )
    finally:
        connections.caps.close(owner_id)


async def _voice(
    socket: WebSocket[Any, Any, State],
    session_id: str,
    session_pk: int,
    speech: SpeechEngines,
    conversation: InterviewConversation,
    *,
    others_busy: Callable[[], bool],
    config: VoiceConfig,
    connections: VoiceConnections,
    vocabulary: Vocabulary | None,
) -> None:
    """The connection, once it may stay: wire a session to it and pump frames."""
    claim = await connections.claim(session_id, session_pk, socket)

    async def send(item: ServerEvent | Pcm16) -> None:
        if isinstance(item, Pcm16):
            await socket.send_bytes(item.data)
        else:
            await socket.send_text(encode_server_event(item))

    try:
        async with VoiceSession(
            session_id=session_id,
            conversation=conversation,
            stt=speech.stt,
            tts=speech.tts,
            vad_model=speech.vad,
            send=send,
            vocabulary=vocabulary,
            second_pass_stt=speech.second_pass_stt,
            turn_model=speech.turn_model,
            others_busy=others_busy,
            config=config,
        ) as voice:
            while voice.close_code is None:
                message: dict[str, Any] = dict(await socket.receive())
                if message["type"] == "websocket.disconnect":
                    break
                if isinstance(data := message.get("bytes"), bytes):
                    await voice.receive_audio(data)
                elif isinstance(text := message.get("text"), str):
                    await voice.receive_text(text)
            if voice.close_code is not None:
                await socket.close(code=voice.close_code, reason=voice.close_reason)
    except WebSocketDisconnect:
        pass
    except Exception:
        # Logged here with the interview's id (the app has no logging config of its own); the
        # session's answers are stored already, and a reconnect resumes from them.
        logger.exception("session %s: the voice connection failed", session_id)
        with contextlib.suppress(Exception):
            await socket.close(code=CLOSE_INTERNAL_ERROR, reason="Internal error; reconnect.")
    finally:
        await connections.release(claim)
        logger.info("session %s: voice connection closed", session_id)
