"""Piccolo configuration: the engine follows ``VIVA_DATABASE_URL`` (default: SQLite in ``var/``)."""

from __future__ import annotations

from piccolo.conf.apps import AppRegistry

from server.database import engine_for_url
from server.settings import Settings

DB = engine_for_url(Settings.from_env().resolved_database_url)

APP_REGISTRY = AppRegistry(apps=["models.piccolo_app"])
