"""Hub storage: Alembic migrations applied at start, on SQLite and PostgreSQL, keeping data."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from hub import admin, db
from hub.errors import HubError

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def test_an_old_schema_is_upgraded_at_start_and_keeps_its_data(database_url):
    engine = db.create(database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    with engine.begin() as conn:           # a hub database as the first release left it
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(db.kiosks.insert().values(name="old", token_hash="h" * 64, created_at=1.0))
    engine.dispose()
    engine = db.open_hub(database_url)
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.kiosks.c.name)).scalars().all() == ["old"]
        assert conn.execute(sa.select(db.hub_state.c.value)).scalar() == 0
    db.upgrade(engine)                     # a second start changes nothing
    admin.revoke_kiosk(engine, "old")      # the new table is used at once
    with engine.connect() as conn:
        assert conn.execute(sa.select(db.hub_state.c.value)).scalar() == 1
    engine.dispose()


def test_bad_database_url_is_one_line_error(database_url):
    with pytest.raises(HubError, match="not a database URL|unsupported database"):
        db.create("mysql://nobody@nowhere/x")
    with pytest.raises(HubError, match="not a database URL"):
        db.create("::nonsense::")
