from __future__ import annotations

import pytest
from voice_pack_eng import EnglishPack, load


@pytest.fixture(scope="session")
def pack() -> EnglishPack:
    return load()
