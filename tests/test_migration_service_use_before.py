"""Migration a14e0c57b2d9 fills service use's counts before from the baseline answers of
referrals recorded before it."""

from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from core.db import MIGRATIONS

BASELINE = (
    '{"gp_consultations": 3, "ae_attendances": 1, "outpatient_appointments": 0, '
    '"inpatient_stays": 2}'
)


def test_existing_service_use_changes_get_their_counts_before(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["database_url"] = url
    command.upgrade(config, "f1a2b3c4d5e6")
    referral, at = uuid4().hex, datetime(2026, 1, 10, tzinfo=UTC).isoformat(" ")
    engine = create_engine(url)
    with engine.begin() as db:
        db.execute(text("INSERT INTO referral (id, practice_ods, status, need_codes, created_at, "
                        "updated_at) VALUES (:id, 'A81001', 'engaged', '[]', :at, :at)"),
                   {"id": referral, "at": at})  # fmt: skip
        db.execute(text("INSERT INTO outcome_record (referral_id, checkpoint, instrument, version, "
                        "answers, missed, recorded_at) VALUES (:id, 'baseline', 'service_use', "
                        "'1', :answers, 0, :at)"),
                   {"id": referral, "at": at, "answers": BASELINE})  # fmt: skip
        for instrument in ("service_use", "ucla3"):
            db.execute(text("INSERT INTO outcome_change (referral_id, checkpoint, instrument, "
                            "version, has_baseline, latest, item_improvement, recorded_at) VALUES "
                            "(:id, 'follow_up_1', :instrument, '1', 1, 1, '{}', :at)"),
                       {"id": referral, "at": at, "instrument": instrument})  # fmt: skip
    command.upgrade(config, "head")
    with engine.connect() as db:
        rows = db.execute(text("SELECT instrument, item_before FROM outcome_change")).all()
    before = {instrument: counts for instrument, counts in rows}
    engine.dispose()
    assert before == {"service_use": BASELINE, "ucla3": "{}"}
