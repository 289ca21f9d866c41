from __future__ import annotations

import pytest

from kojin.app import Kojin
from tests.hub.helpers import Person, setup_demo


@pytest.fixture
def people(kojin: Kojin) -> list[Person]:
    """Demo agencies and two people known to 文京区, 新宿区 and 日本年金機構."""
    return setup_demo(kojin, 2)
