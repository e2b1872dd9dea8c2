"""Every command explains itself with --help."""

import pytest
from typer.testing import CliRunner

from socialrx.cli import app


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ([], "dev"),
        (["dev"], "Ctrl-C"),
        (["dev"], "SOCIALRX_TEMPORAL_ADDRESS"),
        (["worker"], "Temporal worker"),
        (["api"], "uvicorn"),
        (["codec-server"], "SOCIALRX_CODEC_SERVER__TOKEN"),
        (["payload-key"], "rotation"),
        (["seed"], "demo"),
        (["bench", "lifecycle"], "--concurrency"),
        (["users"], "set-password"),
        (["users", "add"], "link_worker"),
        (["users", "deactivate"], "sessions end"),
        (["keys"], "revocable"),
        (["keys", "create"], "cannot be shown again"),
        (["keys", "revoke"], "401"),
        (["relay"], "each message is claimed by one"),
        (["outbox"], "dead"),
        (["outbox", "retry"], "attempts from zero"),
    ],
)
def test_help(command: list[str], says: str) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert says in result.output
