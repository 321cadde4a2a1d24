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


def test_accounts_and_audit_of_0002_survive_0003(database_url):
    from hub import auth
    from hub.settings import HubSettings
    engine = db.create(database_url)
    cfg = Config()
    cfg.set_main_option("script_location", str(db.MIGRATIONS_DIR))
    with engine.begin() as conn:           # officials and audit rows as the previous release left them
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
        conn.exec_driver_sql(
            "INSERT INTO officials (login, name, role, ward, password_hash, failed_logins, created_at) "
            f"VALUES ('cu', 'Cán bộ cũ', 'ward', 'Phường A', '{auth.hash_password('mat-khau-du-dai')}', 3, 1.0)")
        conn.exec_driver_sql("INSERT INTO audit (at, actor, action, detail) VALUES (1.0, 'cli', 'kiosk.add', '{}')")
    engine.dispose()
    engine = db.open_hub(database_url)
    settings = HubSettings(database=database_url)
    assert auth.login(engine, settings, "cu", "mat-khau-du-dai", "10.0.0.1")["login"] == "cu"
    ward_a = {"role": "ward", "ward": "Phường A", "login": "cu"}
    assert [r["action"] for r in admin.audit_log(engine, official=ward_a)] == []       # old rows: hub-wide only
    assert [r["action"] for r in admin.audit_log(engine)] == ["kiosk.add"]
    assert admin.disable_official(engine, "cu")["disabled"] is True
    engine.dispose()
