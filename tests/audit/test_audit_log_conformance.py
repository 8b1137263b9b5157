"""Every AuditLog behaviour, on SQLite and PostgreSQL (see conftest.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from strongroom.audit.log import AuditLog, AuditRow, LookupQuery, RowKind

BASE_US = 1_714_564_800_000_000  # as in conftest.py

ACCOUNT = "111122223333"
OTHER = "444455556666"


def q(**kw: object) -> LookupQuery:
    kw.setdefault("account", ACCOUNT)
    kw.setdefault("region", "us-east-1")
    return LookupQuery(**kw)  # type: ignore[arg-type]


def ids(events: list[object]) -> list[str]:
    return [e.event_id for e in events]  # type: ignore[attr-defined]


@pytest.mark.parametrize("indexed", [False, True], ids=["tail", "indexed"])
def test_lookup_newest_first_by_each_attribute(
    audit_log: AuditLog, make_row: Callable[..., AuditRow], indexed: bool
) -> None:
    rows = [
        make_row(
            name="CreateUser",
            user="alice",
            read_only=False,
            extra=(("t", "AWS::IAM::User"), ("m", "bob")),
        ),
        make_row(name="GetCallerIdentity", user="bob", akid="AKIABOB"),
        make_row(name="CreateUser", user="bob", akid="AKIABOB", read_only=False),
        make_row(account=OTHER, name="CreateUser"),
        make_row(region="eu-west-1", name="CreateUser"),
    ]
    audit_log.append(rows, BASE_US)
    if indexed:
        while audit_log.index_pending(2):  # several chunks
            pass
        assert audit_log.indexed_seq() == audit_log.last_seq()
    a, b, c = rows[0].event_id, rows[1].event_id, rows[2].event_id
    assert ids(audit_log.lookup(q())) == [c, b, a]
    assert ids(audit_log.lookup(q(attribute="EventName", value="CreateUser"))) == [c, a]
    assert ids(audit_log.lookup(q(attribute="Username", value="bob"))) == [c, b]
    assert ids(audit_log.lookup(q(attribute="AccessKeyId", value="AKIABOB"))) == [c, b]
    assert ids(audit_log.lookup(q(attribute="ReadOnly", value="false"))) == [c, a]
    assert ids(audit_log.lookup(q(attribute="ReadOnly", value="true"))) == [b]
    assert ids(audit_log.lookup(q(attribute="EventSource", value="sts.amazonaws.com"))) == [c, b, a]
    assert ids(audit_log.lookup(q(attribute="ResourceType", value="AWS::IAM::User"))) == [a]
    assert ids(audit_log.lookup(q(attribute="ResourceName", value="bob"))) == [a]
    assert ids(audit_log.lookup(q(attribute="EventId", value=b))) == [b]
    assert audit_log.lookup(q(attribute="EventId", value=rows[3].event_id)) == []  # other account
    assert ids(audit_log.lookup(q(account=OTHER))) == [rows[3].event_id]
    assert ids(audit_log.lookup(q(region="eu-west-1"))) == [rows[4].event_id]


def test_lookup_by_event_id_keeps_the_time_window_and_the_page_cursor(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    row = make_row(at=BASE_US + 5_000_000)
    audit_log.append([row, make_row(at=BASE_US + 6_000_000)], BASE_US)
    (stored,) = audit_log.lookup(q(attribute="EventId", value=row.event_id))
    by_id = {"attribute": "EventId", "value": row.event_id}
    assert ids(audit_log.lookup(q(**by_id, start_us=BASE_US + 5_000_000))) == [row.event_id]
    assert audit_log.lookup(q(**by_id, start_us=BASE_US + 5_000_001)) == []
    assert audit_log.lookup(q(**by_id, end_us=BASE_US + 4_999_999)) == []
    assert audit_log.lookup(q(**by_id, before=(stored.event_time_us, stored.seq))) == []
    assert audit_log.lookup(q(**by_id, region="eu-west-1")) == []


@pytest.mark.parametrize("indexed", [False, True], ids=["tail", "indexed"])
def test_events_stored_with_their_id_in_attrs_are_still_found_and_indexed(
    audit_log: AuditLog, make_row: Callable[..., AuditRow], indexed: bool
) -> None:
    # Before migration 5 the attrs column began with ["i", <event id>].
    old, new = make_row(name="Old"), make_row(name="New")
    old.attrs_column = f'[["i","{old.event_id}"],["n","Old"],["s","sts.amazonaws.com"]]'
    audit_log.append([old, new], BASE_US)
    if indexed:
        while audit_log.index_pending(1):
            pass
        # No posting row holds an event id any more, old layout or new.
        table = audit_log.t.postings  # type: ignore[attr-defined]
        attrs = audit_log._fetch(f"SELECT DISTINCT attr FROM {table}", ())  # type: ignore[attr-defined]
        assert "i" not in {str(r[0]) for r in attrs}
    for row, name in ((old, "Old"), (new, "New")):
        assert ids(audit_log.lookup(q(attribute="EventId", value=row.event_id))) == [row.event_id]
        assert ids(audit_log.lookup(q(attribute="EventName", value=name))) == [row.event_id]


@pytest.mark.parametrize("indexed", [False, True], ids=["tail", "indexed"])
def test_pages_and_time_window(
    audit_log: AuditLog, make_row: Callable[..., AuditRow], indexed: bool
) -> None:
    # Two events share a timestamp: the sequence number breaks the tie.
    rows = [make_row(at=BASE_US + i // 2 * 1_000_000) for i in range(9)]
    audit_log.append(rows, BASE_US)
    if indexed:
        audit_log.index_pending()
    expected = [r.event_id for r in reversed(rows)]
    seen: list[str] = []
    before = None
    while True:
        page = audit_log.lookup(q(limit=4, before=before))
        seen += ids(page)
        if len(page) < 4:
            break
        before = (page[-1].event_time_us, page[-1].seq)
    assert seen == expected
    window = audit_log.lookup(q(start_us=BASE_US + 1_000_000, end_us=BASE_US + 2_000_000))
    assert ids(window) == [r.event_id for r in reversed(rows[2:6])]


def test_tail_and_index_give_the_same_answer(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    first = [make_row(user="alice") for _ in range(5)]
    audit_log.append(first, BASE_US)
    audit_log.index_pending()
    later = [make_row(user="alice") for _ in range(3)]
    audit_log.append(later, BASE_US)  # not indexed yet: read from the tail
    expected = [r.event_id for r in reversed(first + later)]
    assert ids(audit_log.lookup(q(attribute="Username", value="alice"))) == expected
    assert ids(audit_log.lookup(q(limit=2))) == expected[:2]
    audit_log.index_pending()
    assert ids(audit_log.lookup(q(attribute="Username", value="alice"))) == expected


def test_admin_lookup_across_partitions(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    rows = [
        make_row(account=ACCOUNT, region="us-east-1"),
        make_row(account=OTHER, region="us-east-1"),
        make_row(account=ACCOUNT, region="eu-west-1"),
    ]
    audit_log.append(rows, BASE_US)
    everything = audit_log.lookup(LookupQuery(None, None))
    assert ids(everything) == [r.event_id for r in reversed(rows)]
    mine = audit_log.lookup(LookupQuery(ACCOUNT, None))
    assert ids(mine) == [rows[2].event_id, rows[0].event_id]


def test_after_reads_in_commit_order(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    # Event time does not decide the order of `after`: commit order does.
    late = make_row(at=BASE_US + 50_000_000)
    early = make_row(at=BASE_US)
    audit_log.append([late], BASE_US)
    audit_log.append([early], BASE_US)
    events = audit_log.after(0, 10)
    assert ids(events) == [late.event_id, early.event_id]
    assert events[0].seq < events[1].seq == audit_log.last_seq()
    assert audit_log.after(events[0].seq, 10)[0].event_id == early.event_id
    assert audit_log.count() == 2


def test_commit_order_across_concurrent_writers(
    audit_backend: Callable[[], AuditLog], make_row: Callable[..., AuditRow]
) -> None:
    logs = [audit_backend() for _ in range(3)]
    errors: list[BaseException] = []

    def write(log: AuditLog) -> None:
        try:
            for _ in range(20):
                log.append([make_row(), make_row()], BASE_US)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    seqs = [e.seq for e in logs[0].after(0, 1000)]
    assert len(seqs) == 120 and seqs == sorted(seqs)


def test_intent_then_event(audit_log: AuditLog, make_row: Callable[..., AuditRow]) -> None:
    intent = make_row(kind=RowKind.INTENT, name="CreateUser", read_only=False)
    audit_log.append([intent], BASE_US)
    assert audit_log.count() == 0  # a request entry is not an event
    assert [p.row.event_id for p in audit_log.stale_intents(BASE_US + 1, 10)] == [intent.event_id]
    assert audit_log.stale_intents(BASE_US, 10) == []  # not older than the cutoff
    done = make_row(event_id=intent.event_id, completes=intent.event_id, read_only=False)
    result = audit_log.append([done], BASE_US + 5)
    assert result.inserted == 1
    assert audit_log.stale_intents(BASE_US + 10**9, 10) == []
    assert ids(audit_log.lookup(q())) == [intent.event_id]


def test_an_event_is_stored_once_when_recovery_raced_its_completion(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    intent = make_row(kind=RowKind.INTENT)
    audit_log.append([intent], BASE_US)
    recovered = make_row(event_id=intent.event_id, completes=intent.event_id, body=b"unknown")
    late = make_row(event_id=intent.event_id, completes=intent.event_id, body=b"late")
    assert audit_log.append([recovered], BASE_US).inserted == 1
    result = audit_log.append([late, make_row()], BASE_US)
    assert result.inserted == 1 and result.duplicates == [intent.event_id]
    stored = audit_log.lookup(q(attribute="EventId", value=intent.event_id))
    assert [e.body for e in stored] == [b"unknown"]


def test_expire_removes_old_events_and_their_index(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    old = [make_row(at=BASE_US + i) for i in range(5)]
    new = [make_row(at=BASE_US + 10_000_000 + i) for i in range(3)]
    audit_log.append(old + new, BASE_US)
    assert audit_log.expire(BASE_US + 5_000_000, batch=2) == 5
    assert audit_log.count() == 3
    assert ids(audit_log.lookup(q(attribute="Username", value="alice"))) == [
        r.event_id for r in reversed(new)
    ]
    assert audit_log.expire(BASE_US + 5_000_000) == 0
    # Their index entries went with them: 6 per event (all, read-only,
    # n, s, u, k; EventId is the events table's own index), 16 bytes each
    # in the posting rows.
    table = audit_log.t.postings  # type: ignore[attr-defined]
    stored = audit_log._fetch(f"SELECT sum(length(entries)), min(min_time) FROM {table}", ())  # type: ignore[attr-defined]
    assert int(stored[0][0]) == 16 * 6 * len(new)
    assert int(stored[0][1]) == new[0].event_time_us


def test_expire_finds_late_recorded_old_events_in_every_partition(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    # Expiry finds old events through the index, not by scanning: an old
    # event recorded late (a recovered request entry) sits among new ones.
    new = [make_row(at=BASE_US + 10_000_000 + i) for i in range(4)]
    audit_log.append(new[:2], BASE_US)
    audit_log.index_pending()
    late_old = make_row(at=BASE_US + 1, account="222222222222")
    old_other_region = make_row(at=BASE_US + 2, region="eu-west-1")
    audit_log.append([new[2], late_old, old_other_region, new[3]], BASE_US)
    assert audit_log.expire(BASE_US + 5_000_000) == 2
    assert sorted(e.event_id for e in audit_log.after(0, 10)) == sorted(r.event_id for r in new)


def test_bodies_are_opaque_bytes(audit_log: AuditLog, make_row: Callable[..., AuditRow]) -> None:
    blob = bytes(range(256)) * 40
    row = make_row(body=blob)
    audit_log.append([row], BASE_US)
    assert audit_log.lookup(q())[0].body == blob


def test_unindexable_values_are_not_indexed_but_the_event_is_kept(
    audit_log: AuditLog, make_row: Callable[..., AuditRow]
) -> None:
    from strongroom.audit.log import encode_attrs

    attrs = encode_attrs([("n", "X"), ("k", "A" * 5000), ("n", "X"), ("u", "")])
    assert attrs == (("n", "X"),)
    row = make_row()
    row.attrs = attrs
    audit_log.append([row], BASE_US)
    audit_log.index_pending()
    assert ids(audit_log.lookup(q(attribute="EventName", value="X"))) == [row.event_id]
