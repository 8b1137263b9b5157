from __future__ import annotations

import pytest
from tests.services.events.events_support import EventsEnv


@pytest.fixture()
def env() -> EventsEnv:
    return EventsEnv()
