"""strongroom.events.bus: events are recorded in EventBridge's shape, in order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support.fake_platform import FakeClock, make_platform
from tests.support.memory_store import MemoryStore

from strongroom.events.bus import StoreEventBus, event_bus, read_events


def test_publish_records_the_eventbridge_envelope() -> None:
    clock = FakeClock(datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC))
    store = MemoryStore()
    bus = StoreEventBus(store, clock)
    first = bus.publish(
        "111122223333",
        "eu-west-1",
        "aws.ssm",
        "Parameter Store Change",
        {"operation": "Create", "name": "/a"},
        ["arn:x"],
    )
    second = bus.publish(
        "111122223333",
        "eu-west-1",
        "aws.ssm",
        "Parameter Store Change",
        {"operation": "Delete", "name": "/a"},
        [],
    )
    bus.publish("111122223333", "us-east-1", "aws.ssm", "Other", {}, [])
    events = read_events(store, "111122223333", "eu-west-1")
    assert [e["id"] for e in events] == [first, second]  # same instant: publication order
    assert events[0] == {
        "version": "0",
        "id": first,
        "detail-type": "Parameter Store Change",
        "source": "aws.ssm",
        "account": "111122223333",
        "time": "2024-05-01T12:00:00Z",
        "region": "eu-west-1",
        "resources": ["arn:x"],
        "detail": {"operation": "Create", "name": "/a"},
    }
    assert len(read_events(store, "111122223333", "us-east-1")) == 1


def test_platform_bus_defaults_to_the_store_and_can_be_replaced() -> None:
    platform = make_platform()
    assert isinstance(event_bus(platform), StoreEventBus)

    class Recorder:
        def __init__(self) -> None:
            self.seen: list[tuple[Any, ...]] = []

        def publish(self, *args: Any) -> str:
            self.seen.append(args)
            return "id"

    recorder = Recorder()
    platform.events = recorder
    assert event_bus(platform).publish("a", "r", "s", "d", {}, []) == "id"
    assert recorder.seen == [("a", "r", "s", "d", {}, [])]
