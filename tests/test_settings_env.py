"""Settings read from the environment as docs/configuration.md says, and it lists them all."""

from datetime import timedelta
from pathlib import Path

import pytest

from core.settings import (
    ActionLinkSettings,
    CodecServerSettings,
    IdempotencySettings,
    MeshSettings,
    MetricsSettings,
    NotifySettings,
    OutboxSettings,
    ReconcilerSettings,
    Settings,
    SignInSettings,
    SmtpSettings,
    TemporalConnectionSettings,
    TracingSettings,
)
from domain.policy import ReferralPolicy

CONFIGURATION = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text()


def test_policy_durations_and_lists_come_from_nested_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALRX_POLICY__FOLLOW_UP_CHECKPOINTS", '["PT20S","PT40S"]')
    monkeypatch.setenv("SOCIALRX_POLICY__FOLLOW_UP_WINDOW", "PT5M")
    monkeypatch.setenv("SOCIALRX_POLICY__FIRST_CONTACT_IN_WORKING_DAYS", "false")
    monkeypatch.setenv("SOCIALRX_POLICY__ORGANISATION_RESPONSE_DUE", "P3D")
    policy = Settings().policy
    assert policy.follow_up_checkpoints == [timedelta(seconds=20), timedelta(seconds=40)]
    assert policy.follow_up_window == timedelta(minutes=5)
    assert policy.first_contact_in_working_days is False
    assert policy.organisation_response_due == timedelta(days=3)
    assert policy.first_contact_due == timedelta(days=5)


def test_the_configuration_table_names_every_setting() -> None:
    names = [f"SOCIALRX_{name.upper()}" for name in Settings.model_fields if name != "policy"]
    names += [f"SOCIALRX_POLICY__{name.upper()}" for name in ReferralPolicy.model_fields]
    for section in (
        MeshSettings,
        OutboxSettings,
        SmtpSettings,
        NotifySettings,
        ActionLinkSettings,
        SignInSettings,
        TemporalConnectionSettings,
        CodecServerSettings,
        IdempotencySettings,
        ReconcilerSettings,
        MetricsSettings,
        TracingSettings,
    ):
        prefix = next(n for n, f in Settings.model_fields.items() if f.annotation is section)
        names += [f"SOCIALRX_{prefix.upper()}__{name.upper()}" for name in section.model_fields]
    missing = [name for name in names if f"| `{name}` |" not in CONFIGURATION]
    assert missing == []
