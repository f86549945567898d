"""Secrets never enter a recording: known ones (passwords, webhooks) and DSN passwords
in free text are masked before anything is written."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cockpit.config import Settings, known_secrets
from cockpit.model import SourceFailure
from cockpit.recording.store import RecordingReader, RecordingWriter

AT = datetime(2026, 12, 6, 3, 12, tzinfo=UTC)


def test_secrets_are_masked_before_they_are_written(tmp_path: Path) -> None:
    settings = Settings(
        postgres={"dsn": "postgresql://excel_user:pg-Secret-99@db:5432/excel"},
        notify={"slack_webhook_url": "https://hooks.slack.com/services/T0/B0/wh-Secret-77"},
    )
    secrets = known_secrets(settings)
    path = tmp_path / "r.db"
    writer = RecordingWriter(path, secrets=secrets)
    writer.failure(
        SourceFailure(
            "postgres",
            "postgresql://excel_user:pg-Secret-99@db:5432/excel: password authentication failed",
            "posting to https://hooks.slack.com/services/T0/B0/wh-Secret-77 failed too",
        ),
        AT,
    )
    writer.action({"action": "notify.send", "message": "token=abcdefgh12345678 sent"}, AT)
    writer.close()
    reader = RecordingReader(path)
    failure = reader.state_at(AT)["postgres"].failure
    assert "pg-Secret-99" not in failure.message and "****" in failure.message
    assert "wh-Secret-77" not in failure.hint
    assert "abcdefgh12345678" not in str(reader.actions())
    # Compressed rows could hide a plain-text match: read every row back, too.
    assert all("Secret" not in str(f.plain) for f in reader.frames())
