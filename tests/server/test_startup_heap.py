"""The server freezes its start-up heap once MLflow is loaded (so the collector's full
passes skip it while requests wait), and serves as before; the setting turns it off."""

from __future__ import annotations

import asyncio
import gc

import pytest

from .conftest import Api

pytestmark = pytest.mark.timeout(120)


async def _frozen_within(seconds: float) -> int:
    deadline = asyncio.get_running_loop().time() + seconds
    while gc.get_freeze_count() == 0 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
    return gc.get_freeze_count()


@pytest.mark.parametrize("matih_config", [{"freeze_startup_heap": True}], indirect=True)
async def test_the_start_up_heap_is_frozen_after_warm_up_and_requests_are_served(
    api: Api,
) -> None:
    r = await api("POST", "experiments", {"name": "frozen"})
    assert r.status == 201, r
    frozen = await _frozen_within(30)
    # MLflow and SQLAlchemy alone are well over 100,000 objects.
    assert frozen > 100_000
    r = await api("GET", f"experiments/{r.json['id']}")
    assert r.status == 200 and r.json["name"] == "frozen"
    # New garbage in cycles is still collected.
    cycle: list = []
    cycle.append(cycle)
    del cycle
    assert gc.collect() >= 1


async def test_the_setting_leaves_the_heap_alone(api: Api) -> None:
    r = await api("POST", "experiments", {"name": "thawed"})
    assert r.status == 201, r
    await asyncio.sleep(0.5)
    assert gc.get_freeze_count() == 0
