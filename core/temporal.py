"""The one way this project connects to Temporal: pydantic data converter, settings' address."""

import shutil
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.settings import Settings

DATA_CONVERTER = pydantic_data_converter


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.resolved_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
    )


def installed_binary(name: str) -> str:
    """Path of a Temporal binary installed from PyPI (never downloaded at run time)."""
    beside_python = Path(sys.executable).parent / name
    path = str(beside_python) if beside_python.exists() else shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"'{name}' is not installed; run `pip install -e '.[test]'` in this virtualenv"
        )
    return path
