from __future__ import annotations

import pytest
from voice_pack_fuc import PulaarPack, load


@pytest.fixture(scope="session")
def pack() -> PulaarPack:
    return load()
