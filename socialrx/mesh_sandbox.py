"""NHS Digital's MESH sandbox (PyPI ``mesh-sandbox``) as a local server, for ``socialrx dev
--mesh-sandbox`` and the MESH tests.

It pins its own FastAPI, so it lives in a venv of its own, ``<var_dir>/mesh-sandbox-venv``
(``scripts/test`` makes it). It listens on loopback only, with its canned mailboxes
X26ABC1..3 (password ``password``) and full token authentication: we send as X26ABC1, and
every practice's mailbox is X26ABC2.
"""

import subprocess
import sys
from pathlib import Path

SHARED_KEY = "TestKey"
PASSWORD = "password"
OUR_MAILBOX = "X26ABC1"
PRACTICE_MAILBOX = "X26ABC2"
INSTALLED_MARKER = ".mesh-sandbox-installed"


def venv_dir(var_dir: Path) -> Path:
    return var_dir / "mesh-sandbox-venv"


def installed_python(var_dir: Path) -> Path | None:
    venv = venv_dir(var_dir)
    return venv / "bin" / "python" if (venv / INSTALLED_MARKER).exists() else None


def install(var_dir: Path) -> Path:
    """Make the sandbox's venv (once; later calls only find it) and return its python."""
    python = installed_python(var_dir)
    if python is not None:
        return python
    venv = venv_dir(var_dir)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", "mesh-sandbox"],
        check=True,
    )  # fmt: skip
    (venv / INSTALLED_MARKER).touch()
    return venv / "bin" / "python"


def command(python: Path, port: int) -> list[str]:
    return [
        str(python), "-m", "uvicorn", "mesh_sandbox.api:app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip


def environment(store_dir: Path | None) -> dict[str, str]:
    """The sandbox's own settings: messages in memory, or as files under ``store_dir``."""
    store = {"STORE_MODE": "memory"}
    if store_dir is not None:
        store = {"STORE_MODE": "file", "MAILBOXES_DATA_DIR": str(store_dir)}
    # Its pinned FastAPI warns about its own code at every start: noise, not news.
    return {**store, "AUTH_MODE": "full", "SHARED_KEY": SHARED_KEY, "PYTHONWARNINGS": "ignore"}


def socialrx_environment(url: str, practice_ods_codes: list[str]) -> dict[str, str]:
    """SOCIALRX_MESH__* settings that send every given practice's messages to the sandbox."""
    mailboxes = ", ".join(f'"{ods}": "{PRACTICE_MAILBOX}"' for ods in practice_ods_codes)
    return {
        "SOCIALRX_MESH__URL": url,
        "SOCIALRX_MESH__MAILBOX": OUR_MAILBOX,
        "SOCIALRX_MESH__PASSWORD": PASSWORD,
        "SOCIALRX_MESH__SHARED_KEY": SHARED_KEY,
        "SOCIALRX_MESH__PRACTICE_MAILBOXES": "{" + mailboxes + "}",
    }
