"""Operator fixtures: two operators on top of the hub's NPPOs (AA, BB, CC and channel XCH)."""

import pytest

from hub.identity.domain import AuthenticatedNppo
from hub.runtime import HubRuntime
from tests.hub.operators.helpers import add_operators


@pytest.fixture
async def operators(runtime: HubRuntime, nppos: dict[str, AuthenticatedNppo]) -> None:
    await add_operators(runtime)
