"""The one way this project connects to Temporal: pydantic data converter, settings' address."""

import shutil

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from socialrx.settings import Settings

DATA_CONVERTER = pydantic_data_converter


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.resolved_temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=DATA_CONVERTER,
    )


def installed_binary(name: str) -> str:
    """Path of a Temporal binary installed from PyPI (never downloaded at run time)."""
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(
            f"'{name}' is not on PATH; install socialrx into a virtual environment and activate it"
        )
    return path
