"""Live voice connections as rows (``voice_leases``): the one-live-socket-per-interview rule
held by the database, so that it holds across app instances on one database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from models.tables import VoiceLease


def _now() -> datetime:
    return datetime.now(tz=UTC)


class VoiceLeaseRepository:
    async def open(self, session_id: int) -> int:
        """A row for a new connection to the session; its id orders it among the others."""
        now = _now()
        row = VoiceLease(session=session_id, opened_at=now, seen_at=now)
        await row.save()
        return int(row.id)

    async def renew(self, lease_id: int) -> bool:
        """Mark the connection alive now; False if its row is gone (taken as stale)."""
        renewed = (
            await VoiceLease.update({VoiceLease.seen_at: _now()})
            .where(VoiceLease.id == lease_id)
            .returning(VoiceLease.id)
        )
        return bool(renewed)

    async def newer_exists(self, session_id: int, lease_id: int) -> bool:
        """Whether a later connection to the session has opened (this one is replaced)."""
        return await VoiceLease.exists().where(
            (VoiceLease.session == session_id) & (VoiceLease.id > lease_id)
        )

    async def older_alive(self, session_id: int, lease_id: int, *, stale_s: float) -> int:
        """Earlier connections to the session still alive; the rows of those not renewed
        within ``stale_s`` (their instance died) are deleted first."""
        await VoiceLease.delete().where(
            (VoiceLease.session == session_id)
            & (VoiceLease.id < lease_id)
            & (VoiceLease.seen_at < _now() - timedelta(seconds=stale_s))
        )
        return int(
            await VoiceLease.count().where(
                (VoiceLease.session == session_id) & (VoiceLease.id < lease_id)
            )
        )

    async def close(self, lease_id: int) -> None:
        await VoiceLease.delete().where(VoiceLease.id == lease_id)
