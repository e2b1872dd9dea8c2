"""NHS Digital's MESH sandbox started by a test as a real server on a loopback port, from the
venv ``scripts/test`` makes under the repository's ``var/`` (made here when missing)."""

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from socialrx import mesh_sandbox
from tests.support.dev_processes import free_port

REPOSITORY_VAR = Path(__file__).resolve().parents[2] / "var"


@dataclass(frozen=True)
class MeshSandbox:
    url: str


@contextmanager
def running_sandbox(log_path: Path) -> Iterator[MeshSandbox]:
    port = free_port()
    python = mesh_sandbox.install(REPOSITORY_VAR)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            mesh_sandbox.command(python, port),
            env={**os.environ, **mesh_sandbox.environment(store_dir=None)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(url):
            if process.poll() is not None:
                raise RuntimeError(f"the MESH sandbox exited: {log_path.read_text()[-2000:]}")
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


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
