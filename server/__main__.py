"""``python -m server``: migrate, start the models, serve on VIVA_HOST:VIVA_PORT."""

from __future__ import annotations

import logging
import os

import uvicorn

from server.app import create_app
from server.settings import Settings
from server.voice.protocol import MAX_FRAME_BYTES


def main() -> None:
    # Everything the server writes (the database, the key, logs, model files) is its own.
    os.umask(0o077)
    logging.basicConfig(
        level=os.environ.get("VIVA_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    settings = Settings.from_env()
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        ws_max_size=MAX_FRAME_BYTES,
    )


if __name__ == "__main__":
    main()
