"""The Temporal connection's TLS options come from settings: none by default, the system's
roots with `tls`, a private CA, and a client certificate for mutual TLS."""

from pathlib import Path

import pytest
from temporalio.service import TLSConfig

from core.settings import Settings, TemporalConnectionSettings
from core.temporal import tls_for


def test_no_tls_unless_asked_for() -> None:
    assert tls_for(TemporalConnectionSettings()) is False


def test_tls_alone_verifies_with_the_system_roots() -> None:
    assert tls_for(TemporalConnectionSettings(tls=True)) == TLSConfig()


def test_mutual_tls_reads_the_ca_and_the_client_certificate_from_their_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ca.pem", "client.pem", "client.key"):
        (tmp_path / name).write_bytes(f"-----{name}-----".encode())
    monkeypatch.setenv("SOCIALRX_TEMPORAL__SERVER_CA", str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SOCIALRX_TEMPORAL__CLIENT_CERT", str(tmp_path / "client.pem"))
    monkeypatch.setenv("SOCIALRX_TEMPORAL__CLIENT_KEY", str(tmp_path / "client.key"))
    monkeypatch.setenv("SOCIALRX_TEMPORAL__SERVER_NAME", "temporal.internal")
    monkeypatch.setenv("SOCIALRX_TEMPORAL__API_KEY", "key-from-the-vault")
    temporal = Settings().temporal
    assert tls_for(temporal) == TLSConfig(
        server_root_ca_cert=b"-----ca.pem-----",
        domain="temporal.internal",
        client_cert=b"-----client.pem-----",
        client_private_key=b"-----client.key-----",
    )
    assert temporal.api_key.get_secret_value() == "key-from-the-vault"
    assert "key-from-the-vault" not in repr(temporal)


def test_a_certificate_file_that_is_not_there_stops_start_up_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALRX_TEMPORAL__SERVER_CA", str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match=r"temporal\.server_ca"):
        Settings()
