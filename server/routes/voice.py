"""The voice WebSocket: one per interview, speaking protocol v1 (docs/protocol.md).

A raw ``@websocket`` handler, because the socket carries binary audio and JSON control
frames both ways. The handler authorizes, wires a ``VoiceSession`` to the socket and the
interview, and pumps frames; everything about turns lives in ``server.voice``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from litestar import WebSocket, websocket
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from server.container import Services
from server.errors import NotFound
from server.services.conversation import InterviewConversation
from server.services.quotas import SocketCaps
from server.services.vocabulary import interview_vocabulary
from server.voice.audio import Pcm16
from server.voice.config import VoiceConfig
from server.voice.engines import SpeechEngines
from server.voice.protocol import (
    CLOSE_INTERNAL_ERROR,
    CLOSE_NOT_OWNER,
    CLOSE_REPLACED,
    CLOSE_TOO_MANY,
    CLOSE_UNKNOWN_SESSION,
    ServerEvent,
    encode_server_event,
)
from server.voice.session import VoiceSession
from server.voice.vocabulary import Vocabulary

logger = logging.getLogger(__name__)

CLOSE_WAIT_S = 15.0  # > the session's 5 s grace for writes under way


REPLACED_REASON = "This interview was opened in another window or tab, so voice stopped here."
"""Shown to the candidate as it is (the room shows a close's reason)."""


class VoiceConnections:
    """The live socket of each interview in this process: a newer one replaces the older.

    The newer connection waits until the older one has finished closing, so whatever the
    older one was still storing (the answer, what was heard of a reply) lands first and
    the newer one resumes from it. ``caps`` bounds how many are open, per visitor and in all.
    """

    def __init__(self, caps: SocketCaps) -> None:
        self._live: dict[str, tuple[WebSocket[Any, Any, Any], asyncio.Event]] = {}
        self.caps = caps

    async def claim(self, session_id: str, socket: WebSocket[Any, Any, Any]) -> asyncio.Event:
        previous = self._live.get(session_id)
        done = asyncio.Event()
        self._live[session_id] = (socket, done)
        if previous is not None:
            old_socket, old_done = previous
            logger.info("session %s: a newer connection replaces the open one", session_id)
            with contextlib.suppress(Exception):  # it may be closed already
                await old_socket.close(code=CLOSE_REPLACED, reason=REPLACED_REASON)
            try:
                await asyncio.wait_for(old_done.wait(), timeout=CLOSE_WAIT_S)
            except TimeoutError:
                logger.warning("session %s: the previous connection did not close", session_id)
        return done

    def release(
        self, session_id: str, socket: WebSocket[Any, Any, Any], done: asyncio.Event
    ) -> None:
        done.set()
        if (current := self._live.get(session_id)) is not None and current[0] is socket:
            del self._live[session_id]


@websocket("/ws/sessions/{session_id:str}")
async def voice_socket(
    socket: WebSocket[Any, Any, State],
    session_id: FromPath[str],
    services: NamedDependency[Services],
) -> None:
    await socket.accept()
    owner_id: str | None = socket.scope.get("state", {}).get("owner_id")
    if owner_id is None:
        await socket.close(code=CLOSE_NOT_OWNER, reason="No owner identity: open the app first.")
        return
    try:
        record = await services.sessions.get(session_id, owner_id)
    except NotFound:
        await socket.close(code=CLOSE_UNKNOWN_SESSION, reason="No such interview session.")
        return
    speech: SpeechEngines | None = socket.app.state.get("speech")
    if speech is None:
        await socket.close(code=CLOSE_INTERNAL_ERROR, reason="Voice is not available here.")
        return

    # Known before the candidate speaks. In a thread: the first call loads the word lists.
    vocabulary = (
        await asyncio.to_thread(interview_vocabulary, record.cv_text, record.job_description_text)
        if services.settings.stt_bias
        else None
    )
    connections: VoiceConnections = socket.app.state.voice_connections
    if (refused := connections.caps.open(owner_id)) is not None:
        logger.warning("session %s: voice connection refused (too many open)", session_id)
        await socket.close(code=CLOSE_TOO_MANY, reason=refused[:120])
        return
    try:
        await _voice(socket, session_id, owner_id, speech, services, connections, vocabulary)
    finally:
        connections.caps.close(owner_id)


async def _voice(
    socket: WebSocket[Any, Any, State],
    session_id: str,
    owner_id: str,
    speech: SpeechEngines,
    services: Services,
    connections: VoiceConnections,
    vocabulary: Vocabulary | None,
) -> None:
    """The connection, once it may stay: wire a session to it and pump frames."""
    done = await connections.claim(session_id, socket)
    conversation = InterviewConversation(
        services.interview,
        services.sessions,
        public_id=session_id,
        owner_id=owner_id,
        max_answer_chars=services.settings.max_answer_chars,
        recordings=services.recordings,
        revisions=services.revisions,
    )

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
            others_busy=lambda: services.interview.activity.others(session_id) > 0,
            config=VoiceConfig(
                second_pass=services.settings.stt_second_pass,
                max_answer_chars=services.settings.max_answer_chars,
            ),
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
        connections.release(session_id, socket, done)
        logger.info("session %s: voice connection closed", session_id)
