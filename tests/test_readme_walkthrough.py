"""The README's walkthrough, run exactly as written against a real ``socialrx dev``.

This also proves ``socialrx dev`` itself: it starts its own Temporal dev server, worker and
API, the referral goes end to end, and Ctrl-C leaves no child process behind.
"""

import re
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.dev_processes import children_of, dev_environment, is_alive, running_dev

README = Path(__file__).parent.parent / "README.md"


def readme_block(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```bash\n(.*?)```", README.read_text(), re.DOTALL)
    assert match, f"README.md has no bash block after <!-- {marker} -->"
    return match.group(1)


def server_command() -> tuple[dict[str, str], list[str]]:
    """The walkthrough's start line, split into its environment and its command."""
    words = shlex.split(readme_block("walkthrough:server").replace("\\\n", " "))
    assignments = [word for word in words if re.match(r"^[A-Z_]+=", word)]
    command = words[len(assignments) :]
    return dict(word.split("=", 1) for word in assignments), command


def test_the_readme_starts_with_the_two_commands() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.DOTALL)
    assert blocks[0].strip() == (
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/socialrx dev"
    )
    assert blocks[1].strip() == "scripts/test"


# Starts the real `socialrx dev`: a system test.
@pytest.mark.system
def test_walkthrough_takes_a_referral_to_completed_and_ctrl_c_stops_everything(
    tmp_path: Path,
) -> None:
    policy_env, command = server_command()
    assert command[-2:] == [".venv/bin/socialrx", "dev"]
    env = dev_environment(tmp_path / "var", policy_env)

    with running_dev(tmp_path, env) as dev:
        dev.wait_until_serving()
        children = children_of(dev.process.pid)
        assert any("temporal" in line and "start-dev" in line for line in children.values())
        steps = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", readme_block("walkthrough:steps")],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert steps.returncode == 0, f"{steps.stdout}\n{steps.stderr}\n{dev.log()}"
        last_line = steps.stdout.strip().splitlines()[-1]
        assert last_line == '{"status":"closed","closure_reason":"completed"}', steps.stdout

        # What the README promises to open: the API's docs, and the Temporal UI listing the
        # referral's workflow (asked the way the UI's own page asks its server).
        docs = httpx.get(f"{dev.api_url}/docs", timeout=10)
        assert docs.status_code == 200 and "swagger-ui" in docs.text
        ui = f"http://127.0.0.1:{env['SOCIALRX_TEMPORAL_UI_PORT']}"
        assert httpx.get(f"{ui}/namespaces/default/workflows", timeout=10).status_code == 200
        listed = httpx.get(f"{ui}/api/v1/namespaces/default/workflows", timeout=10).json()
        kinds = {(run["type"]["name"], run["status"]) for run in listed["executions"]}
        assert ("ReferralWorkflow", "WORKFLOW_EXECUTION_STATUS_COMPLETED") in kinds, listed

        assert dev.stop() == 0, dev.log()
        assert [pid for pid in children if is_alive(pid)] == [], dev.log()
        assert "socialrx dev stopped" in dev.log()
