"""Request counters (batched, hourly) and the usage/cost report, on a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tests.services.kms.kms_support import KmsEnv, allow, key_policy, root_statement
from tests.support.fake_platform import ACCOUNT, OTHER_ACCOUNT

from strongroom.errors import ServiceError
from strongroom.services.kms import pricing
from strongroom.services.kms.meter import REQUESTS, RequestMeter
from strongroom.services.kms.records import KeyRecord, Material
from strongroom.services.kms.usage_report import UsageReport, build_report

START = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)  # the fake clock's start


def report(
    kms: KmsEnv, hours: float = 24, account: str | None = ACCOUNT, **kw: datetime
) -> UsageReport:
    since = kw.get("since", START)
    until = kw.get("until", since + timedelta(hours=hours))
    return build_report(kms.store, since=since, until=until, account=account)


def ops(rep: UsageReport, key_id: str) -> dict[str, int]:
    key = next(k for k in rep.keys if k.key_id == key_id)
    return {name: op.requests for name, op in key.operations.items()}


def flush(kms: KmsEnv) -> None:
    for hook in kms.platform.on_close:  # what Platform.close() runs first
        hook()


def test_counts_stay_in_memory_until_the_interval_passes(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    for _ in range(3):
        kms.call("Encrypt", KeyId=key_id, Plaintext=b"x")
    assert kms.store.scan(REQUESTS) == []  # nothing written on the hot path yet
    assert kms.kms.meter.pending() == 3
    kms.clock.advance(5)
    kms.call("Encrypt", KeyId=key_id, Plaintext=b"x")  # this request triggers the flush
    assert len(kms.store.scan(REQUESTS)) == 1
    assert kms.kms.meter.pending() == 0
    assert ops(report(kms), key_id) == {"Encrypt": 4}


def test_counts_per_operation_and_hour(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    blob = kms.call("Encrypt", KeyId=key_id, Plaintext=b"x")["CiphertextBlob"]
    kms.call("Decrypt", CiphertextBlob=blob)
    kms.call("DescribeKey", KeyId=key_id)
    kms.clock.advance(3600)
    kms.call("Decrypt", CiphertextBlob=blob)
    kms.call("GenerateDataKey", KeyId=key_id, KeySpec="AES_256")
    flush(kms)
    assert ops(report(kms), key_id) == {
        "Encrypt": 1,
        "Decrypt": 2,
        "DescribeKey": 1,
        "GenerateDataKey": 1,
    }
    # Only the second hour.
    later = report(kms, since=START + timedelta(hours=1), until=START + timedelta(hours=2))
    assert ops(later, key_id) == {"Decrypt": 1, "GenerateDataKey": 1}
    # A period inside one hour still sees that hour's bucket.
    inside = report(kms, since=START + timedelta(minutes=10), until=START + timedelta(minutes=20))
    assert ops(inside, key_id) == {"Encrypt": 1, "Decrypt": 1, "DescribeKey": 1}


def test_a_request_counts_once_and_denied_requests_not_at_all(kms: KmsEnv) -> None:
    source = kms.key()["KeyId"]
    dest = kms.key()["KeyId"]
    blob = kms.call("Encrypt", KeyId=source, Plaintext=b"x")["CiphertextBlob"]
    kms.call("ReEncrypt", CiphertextBlob=blob, DestinationKeyId=dest)
    nobody = kms.user("nobody")
    with pytest.raises(ServiceError):
        kms.call("Encrypt", KeyId=source, Plaintext=b"x", principal=nobody)
    flush(kms)
    rep = report(kms)
    assert ops(rep, source) == {"Encrypt": 1, "ReEncrypt": 1}
    assert ops(rep, dest) == {}


def test_processes_add_up_in_the_store(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    record = kms.kms.repo.read().key(ACCOUNT, "us-east-1", key_id)
    assert record is not None
    other_process = RequestMeter(kms.store)
    for _ in range(7):
        other_process.count(ACCOUNT, START, record, "Decrypt")
    kms.call(
        "Decrypt",
        CiphertextBlob=kms.call("Encrypt", KeyId=key_id, Plaintext=b"x")["CiphertextBlob"],
    )
    other_process.flush()
    flush(kms)
    assert ops(report(kms), key_id) == {"Encrypt": 1, "Decrypt": 8}


def test_cross_account_requests_are_the_callers(kms: KmsEnv) -> None:
    policy = key_policy(
        root_statement(),
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"},
            "Action": "kms:Encrypt",
            "Resource": "*",
        },
    )
    key = kms.key(Policy=policy)
    theirs = kms.other_user("bob", allow("kms:Encrypt"))
    kms.call("Encrypt", KeyId=key["Arn"], Plaintext=b"x", principal=theirs)
    kms.call("Encrypt", KeyId=key["KeyId"], Plaintext=b"x")
    flush(kms)
    mine = report(kms, account=ACCOUNT)
    assert ops(mine, key["KeyId"]) == {"Encrypt": 1}
    assert mine.keys[0].storage is not None  # the owner pays the monthly fee
    other = report(kms, account=OTHER_ACCOUNT)
    assert ops(other, key["KeyId"]) == {"Encrypt": 1}
    assert other.keys[0].storage is None and other.keys[0].exists
    assert ops(report(kms, account=None), key["KeyId"]) == {"Encrypt": 2}


def test_a_deleted_key_keeps_its_requests_but_no_fee(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    kms.call("Encrypt", KeyId=key_id, Plaintext=b"x")
    kms.call("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=7)
    flush(kms)
    kms.clock.advance(8 * 86400)
    kms.kms.jobs.run(kms.clock())
    rep = report(kms, hours=24 * 10)
    (key,) = rep.keys
    assert (key.exists, key.storage, key.requests) == (False, None, 2)


def request_record(key_spec: str = "SYMMETRIC_DEFAULT") -> KeyRecord:
    return KeyRecord(
        ACCOUNT, "us-east-1", "k-" + key_spec.lower(), "2020-01-01T00:00:00+00:00", key_spec
    )


@pytest.mark.parametrize(
    ("key_spec", "operation", "price_class", "per_10k"),
    [
        ("SYMMETRIC_DEFAULT", "Encrypt", "symmetric", "0.03"),
        ("HMAC_256", "GenerateMac", "symmetric", "0.03"),
        ("RSA_2048", "Sign", "RSA 2048", "0.03"),
        ("RSA_4096", "Decrypt", "asymmetric", "0.15"),
        ("ECC_NIST_P256", "Sign", "asymmetric", "0.15"),
        ("ML_DSA_65", "Sign", "asymmetric", "0.15"),
        ("ECC_NIST_EDWARDS25519", "Sign", "asymmetric", "0.15"),
        ("HMAC_512", "VerifyMac", "symmetric", "0.03"),
        ("SYMMETRIC_DEFAULT", "GenerateDataKeyPair:RSA_3072", "RSA data key pair", "12.00"),
        # An RSA 2048 pair costs the RSA pair price, not the RSA 2048 key rate.
        ("SYMMETRIC_DEFAULT", "GenerateDataKeyPair:RSA_2048", "RSA data key pair", "12.00"),
        (
            "SYMMETRIC_DEFAULT",
            "GenerateDataKeyPairWithoutPlaintext:ECC_NIST_P384",
            "ECC data key pair",
            "0.10",
        ),
    ],
)
def test_request_prices_by_key_type(
    key_spec: str, operation: str, price_class: str, per_10k: str
) -> None:
    assert pricing.request_price(key_spec, operation) == (price_class, Decimal(per_10k))


def test_request_costs_in_the_report(kms: KmsEnv) -> None:
    meter = RequestMeter(kms.store)
    symmetric, ecc = request_record(), request_record("ECC_NIST_P256")
    for _ in range(20_000):
        meter.count(ACCOUNT, START, symmetric, "Decrypt")
    for _ in range(10_000):
        meter.count(ACCOUNT, START, ecc, "Sign")
    for _ in range(5):
        meter.count(ACCOUNT, START, symmetric, "GenerateDataKeyPair:RSA_2048")
    meter.flush()
    rep = report(kms, hours=1)
    costs = {k.key_id: k.request_cost for k in rep.keys}
    assert costs["k-symmetric_default"] == Decimal("0.06") + Decimal("12") * 5 / 10_000
    assert costs["k-ecc_nist_p256"] == Decimal("0.15")
    assert rep.requests == 30_005
    assert rep.as_json()["Totals"]["RequestCost"] == pytest.approx(0.06 + 0.006 + 0.15)


def test_generate_data_key_pair_is_priced_by_the_pair_spec(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    kms.call("GenerateDataKeyPairWithoutPlaintext", KeyId=key_id, KeyPairSpec="ECC_NIST_P256")
    flush(kms)
    key = report(kms).keys[0]
    (op,) = key.operations.values()
    assert (op.operation, op.price_class) == (
        "GenerateDataKeyPairWithoutPlaintext:ECC_NIST_P256",
        "ECC data key pair",
    )


def with_rotations(*hours_after_start: float, created: datetime = START) -> KeyRecord:
    record = KeyRecord(ACCOUNT, "us-east-1", "k", created.isoformat())
    record.materials.append(Material("m0", "", created.isoformat()))
    for i, hours in enumerate(hours_after_start, 1):
        when = (START + timedelta(hours=hours)).isoformat()
        record.materials.append(
            Material(f"m{i}", "", when, rotation_type="AUTOMATIC", rotated=when)
        )
    return record


def test_key_month_is_prorated_by_the_hour() -> None:
    month = START + timedelta(hours=730)
    charge = pricing.storage_charge(with_rotations(), START, month)
    assert (charge.hours, charge.cost) == (Decimal(730), Decimal(1))
    half = pricing.storage_charge(
        with_rotations(created=START + timedelta(hours=365)), START, month
    )
    assert half.cost == Decimal("0.5")


def test_only_the_first_two_rotations_cost_extra() -> None:
    month = START + timedelta(hours=730)
    charge = pricing.storage_charge(with_rotations(0, 365, 500), START, month)
    # Base key: 1 month; first rotation: 1 month; second: half a month; third: free.
    assert charge.billed_rotations == 2
    assert charge.cost == Decimal("2.5")


def test_aws_managed_keys_have_no_monthly_fee(kms: KmsEnv) -> None:
    key = kms.kms.aws_managed_key(ACCOUNT, "us-east-1", "ssm")
    assert pricing.storage_charge(key, START, START + timedelta(days=30)).cost == 0
    kms.call("DescribeKey", KeyId="alias/aws/ssm")
    flush(kms)
    (row,) = report(kms).keys
    assert (row.manager, row.storage_cost, row.requests) == ("AWS", 0, 1)


def test_no_fee_once_deletion_is_scheduled(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    kms.clock.advance(73 * 3600)
    kms.call("ScheduleKeyDeletion", KeyId=key_id, PendingWindowInDays=30)
    record = kms.kms.repo.read().key(ACCOUNT, "us-east-1", key_id)
    assert record is not None
    charge = pricing.storage_charge(record, START, START + timedelta(days=20))
    assert charge.hours == 73


def test_report_json_shape(kms: KmsEnv) -> None:
    key_id = kms.key()["KeyId"]
    kms.call("CreateAlias", AliasName="alias/app", TargetKeyId=key_id)
    kms.call("Encrypt", KeyId="alias/app", Plaintext=b"x")
    flush(kms)
    out = report(kms, hours=73).as_json()
    assert out["Account"] == ACCOUNT
    assert out["Prices"]["Per10000Requests"]["asymmetric"] == 0.15
    (key,) = out["Keys"]
    assert key["Aliases"] == ["alias/app"]
    assert key["KeyStorage"]["BillableHours"] == 73
    assert key["Operations"] == [
        {
            "Operation": name,
            "Requests": 1,
            "PriceClass": "symmetric",
            "PricePer10000": 0.03,
            "Cost": 0.000003,
        }
        for name in ("CreateAlias", "Encrypt")
    ]
    assert out["Totals"]["Requests"] == 2
    assert out["Totals"]["TotalCost"] == pytest.approx(73 / 730 + 0.000006)
