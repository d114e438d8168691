from __future__ import annotations

import pytest
from voice_pack_fra import FrenchPack, load


@pytest.fixture(scope="session")
def pack() -> FrenchPack:
    return load()
