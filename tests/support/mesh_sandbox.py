"""NHS Digital's MESH sandbox as a real local server on a loopback port.

It pins its own FastAPI, so it lives in a venv of its own (``var/mesh-sandbox-venv``, made by
``scripts/test``, or here when missing). It starts with its canned mailboxes X26ABC1..3
(password ``password``), an in-memory store and full token authentication.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.dev_processes import free_port

VENV = Path(__file__).resolve().parents[2] / "var" / "mesh-sandbox-venv"
SHARED_KEY = "TestKey"
PASSWORD = "password"
OUR_MAILBOX = "X26ABC1"
PRACTICE_MAILBOX = "X26ABC2"


def sandbox_python() -> Path:
    """The sandbox venv's python, made and filled first if missing."""
    python = VENV / "bin" / "python"
    if not (VENV / ".mesh-sandbox-installed").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "mesh-sandbox"],
            check=True,
        )  # fmt: skip
        (VENV / ".mesh-sandbox-installed").touch()
    return python


@dataclass(frozen=True)
class MeshSandbox:
    url: str


@contextmanager
def running_sandbox(log_path: Path) -> Iterator[MeshSandbox]:
    port = free_port()
    env = {
        **os.environ,
        "STORE_MODE": "memory",
        "AUTH_MODE": "full",
        "SHARED_KEY": SHARED_KEY,
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(sandbox_python()), "-m", "uvicorn", "mesh_sandbox.api:app",
             "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the MESH sandbox exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the MESH sandbox did not start within 60 s")
            time.sleep(0.2)
        yield MeshSandbox(url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
