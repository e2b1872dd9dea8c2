"""A throwaway PostgreSQL cluster in a temporary directory, as ``scripts/with-postgres`` makes:
Unix socket only, no fsync, removed afterwards. For benchmarks on a machine without one."""

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path:
    candidates = []
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        candidates.append(found.stdout.strip())
    candidates.append("/usr/lib/postgresql/15/bin")
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise RuntimeError("PostgreSQL (initdb) not found; pass --postgres-url instead")


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Yields the SQLAlchemy URL of a fresh, empty database."""
    bindir = _bindir()
    cluster = Path(tempfile.mkdtemp(prefix="socialrx-bench-pg."))
    cluster.chmod(0o755)
    # PostgreSQL refuses to run as root, so there the cluster belongs to the postgres user.
    as_owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
    if as_owner:
        shutil.chown(cluster, "postgres")
    data = cluster / "data"
    options = f"-c listen_addresses='' -k {cluster} -c fsync=off -c synchronous_commit=off"

    def run(*command: str) -> None:
        subprocess.run([*as_owner, *command], check=True, capture_output=True)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--no-locale")  # fmt: skip
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(cluster / "server.log"), "-w",
            "-o", options, "start")  # fmt: skip
        run(str(bindir / "createdb"), "-h", str(cluster), "-U", "postgres", "socialrx_bench")
        yield f"postgresql+psycopg://postgres@/socialrx_bench?host={cluster}"
    finally:
        subprocess.run(
            [*as_owner, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(cluster, ignore_errors=True)
