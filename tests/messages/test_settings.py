"""The outbox, SMTP and Notify settings come from nested environment variables, and secrets
stay out of their printed form."""

from datetime import timedelta

import pytest

from core.settings import Settings


def test_channel_and_relay_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALRX_OUTBOX__LEASE", "PT1M")
    monkeypatch.setenv("SOCIALRX_OUTBOX__MAX_ATTEMPTS", "3")
    monkeypatch.setenv("SOCIALRX_SMTP__HOST", "smtp.example.org")
    monkeypatch.setenv("SOCIALRX_SMTP__SECURITY", "ssl")
    monkeypatch.setenv("SOCIALRX_SMTP__PASSWORD", "hunter2-smtp")
    monkeypatch.setenv("SOCIALRX_NOTIFY__API_KEY", "hunter2-notify")
    monkeypatch.setenv(
        "SOCIALRX_NOTIFY__SMS_TEMPLATES", '{"person_link_worker_will_contact": "t-1"}'
    )
    monkeypatch.setenv("SOCIALRX_PUBLIC_URL", "https://socialrx.example.nhs.uk")

    settings = Settings()

    assert settings.outbox.lease == timedelta(minutes=1)
    assert settings.outbox.max_attempts == 3
    assert (settings.smtp.host, settings.smtp.security) == ("smtp.example.org", "ssl")
    assert settings.smtp.password.get_secret_value() == "hunter2-smtp"
    assert settings.notify.sms_templates == {"person_link_worker_will_contact": "t-1"}
    assert settings.public_url == "https://socialrx.example.nhs.uk"
    printed = repr(settings)
    assert "hunter2" not in printed


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SOCIALRX_SMTP__SECURITY", "tls-please", "starttls"),
        # A misspelt message kind would otherwise leave its messages pending for ever.
        ("SOCIALRX_NOTIFY__SMS_TEMPLATES", '{"person_will_contact": "t-1"}', "person_"),
    ],
)
def test_settings_that_cannot_work_are_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=says):
        Settings()
