"""The usage report behind ``strongroom kms usage``: request counts per key
and operation for a period, and what they and the keys would cost at AWS's
prices (:mod:`pricing`).

It reads the hourly request buckets the :class:`~meter.RequestMeter` writes
and the key records. Buckets are hourly, so a period is widened to whole
hours: an hour counts when it overlaps the period. Monthly key fees are
prorated to the exact period. Keys that no longer exist still show their
requests (priced by the spec recorded with the counts) but no monthly fee:
their records, and with them their history, are gone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from strongroom.services.kms import pricing
from strongroom.services.kms import records as rec
from strongroom.services.kms.meter import REQUESTS, hour_label, parse_requests_path
from strongroom.services.kms.pricing import StorageCharge
from strongroom.services.kms.records import KeyRecord
from strongroom.storage.base import Store

_PAGE = 500


@dataclass
class OperationUsage:
    operation: str
    requests: int
    price_class: str
    price_per_10k: Decimal

    @property
    def cost(self) -> Decimal:
        return pricing.request_cost(self.requests, self.price_per_10k)


@dataclass
class KeyUsage:
    account: str
    region: str
    key_id: str
    key_spec: str
    manager: str
    exists: bool = True
    aliases: list[str] = field(default_factory=list)
    operations: dict[str, OperationUsage] = field(default_factory=dict)
    storage: StorageCharge | None = None  # None: not billed to the reported account(s)

    @property
    def arn(self) -> str:
        return rec.key_arn(self.region, self.account, self.key_id)

    @property
    def requests(self) -> int:
        return sum(op.requests for op in self.operations.values())

    @property
    def request_cost(self) -> Decimal:
        return sum((op.cost for op in self.operations.values()), Decimal(0))

    @property
    def storage_cost(self) -> Decimal:
        return self.storage.cost if self.storage is not None else Decimal(0)

    @property
    def total_cost(self) -> Decimal:
        return self.request_cost + self.storage_cost


@dataclass
class UsageReport:
    since: datetime
    until: datetime
    account: str | None
    keys: list[KeyUsage] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(k.requests for k in self.keys)

    @property
    def request_cost(self) -> Decimal:
        return sum((k.request_cost for k in self.keys), Decimal(0))

    @property
    def storage_cost(self) -> Decimal:
        return sum((k.storage_cost for k in self.keys), Decimal(0))

    @property
    def total_cost(self) -> Decimal:
        return self.request_cost + self.storage_cost

    def as_json(self) -> dict[str, Any]:
        return {
            "Period": {"Since": rec.iso(self.since), "Until": rec.iso(self.until)},
            "Account": self.account,
            "Prices": prices_json(),
            "Keys": [_key_json(k) for k in self.keys],
            "Totals": {
                "Requests": self.requests,
                "RequestCost": money(self.request_cost),
                "KeyStorageCost": money(self.storage_cost),
                "TotalCost": money(self.total_cost),
            },
        }


def money(value: Decimal) -> float:
    """USD for JSON: micro-dollar precision is plenty for request charges."""
    return float(round(value, 6))


def prices_json() -> dict[str, Any]:
    return {
        "Currency": "USD",
        "AsOf": pricing.PRICES_AS_OF,
        "Source": "https://aws.amazon.com/kms/pricing/",
        "KeyMonth": money(pricing.KEY_MONTH),
        "RotationBackingKeyMonth": money(pricing.ROTATION_MONTH),
        "BilledRotationsPerKey": pricing.BILLED_ROTATIONS,
        "HoursPerMonth": int(pricing.HOURS_PER_MONTH),
        "Per10000Requests": {
            "symmetric": money(pricing.SYMMETRIC_PER_10K),
            "RSA 2048": money(pricing.RSA_2048_PER_10K),
            "asymmetric": money(pricing.ASYMMETRIC_PER_10K),
            "ECC data key pair": money(pricing.ECC_PAIR_PER_10K),
            "RSA data key pair": money(pricing.RSA_PAIR_PER_10K),
        },
        "FreeTierRequestsPerMonth": pricing.FREE_TIER_REQUESTS,
        "FreeTierApplied": False,
    }


def _key_json(key: KeyUsage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "KeyArn": key.arn,
        "KeyId": key.key_id,
        "Account": key.account,
        "Region": key.region,
        "KeySpec": key.key_spec,
        "KeyManager": key.manager,
        "Exists": key.exists,
        "Aliases": key.aliases,
        "Operations": [
            {
                "Operation": op.operation,
                "Requests": op.requests,
                "PriceClass": op.price_class,
                "PricePer10000": money(op.price_per_10k),
                "Cost": money(op.cost),
            }
            for op in sorted(key.operations.values(), key=lambda o: o.operation)
        ],
        "Requests": key.requests,
        "RequestCost": money(key.request_cost),
        "KeyStorageCost": money(key.storage_cost),
        "TotalCost": money(key.total_cost),
    }
    if key.storage is not None:
        out["KeyStorage"] = {
            "BillableHours": float(round(key.storage.hours, 3)),
            "KeyMonths": float(round(key.storage.key_months, 6)),
            "BilledRotations": key.storage.billed_rotations,
            "RotationMonths": float(round(key.storage.rotation_months, 6)),
        }
    return out


def _hour_range(since: datetime, until: datetime) -> tuple[str, str]:
    """Labels of the first hour overlapping the period and of the hour after its end."""
    first = math.floor(since.timestamp() / 3600)
    after = math.ceil(until.timestamp() / 3600)
    return hour_label(first), hour_label(after)


def _request_buckets(
    store: Store, account: str | None, first: str, after: str
) -> list[tuple[str, dict[str, Any]]]:
    prefix = f"{REQUESTS}{account}/" if account else REQUESTS
    cursor = f"{prefix}{first}" if account else ""
    out: list[tuple[str, dict[str, Any]]] = []
    while True:
        rows = store.scan(prefix, start_after=cursor, limit=_PAGE)
        for path, raw in rows:
            hour = parse_requests_path(path)[1]
            if hour >= after:
                if account:
                    return out  # one account's buckets are in hour order
                continue
            if hour >= first:
                out.append((path, json.loads(raw)))
        if len(rows) < _PAGE:
            return out
        cursor = rows[-1][0]


def build_report(
    store: Store, *, since: datetime, until: datetime, account: str | None = None
) -> UsageReport:
    """The usage of ``account`` (every account when None) in [since, until)."""
    report = UsageReport(since, until, account)
    keys: dict[tuple[str, str, str], KeyUsage] = {}
    prefix = f"{rec.KEYS}{account}/" if account else rec.KEYS
    for _, raw in store.iter_scan(prefix):
        record = KeyRecord.loads(raw)
        keys[(record.account, record.region, record.key_id)] = KeyUsage(
            record.account,
            record.region,
            record.key_id,
            record.key_spec,
            record.manager,
            aliases=list(record.aliases),
            storage=pricing.storage_charge(record, since, until),
        )
    first, after = _hour_range(since, until)
    for path, bucket in _request_buckets(store, account, first, after):
        _, _, region, key_account, key_id = parse_requests_path(path)
        slot = (key_account, region, key_id)
        usage = keys.get(slot)
        if usage is None:
            # A deleted key, or another account's key used by the reported account.
            usage = KeyUsage(
                key_account,
                region,
                key_id,
                str(bucket.get("spec", "SYMMETRIC_DEFAULT")),
                str(bucket.get("manager", "CUSTOMER")),
                exists=store.get(rec.key_path(key_account, region, key_id)) is not None,
            )
            keys[slot] = usage
        for operation, count in bucket.get("ops", {}).items():
            known = usage.operations.get(operation)
            if known is None:
                price_class, per_10k = pricing.request_price(usage.key_spec, operation)
                known = usage.operations[operation] = OperationUsage(
                    operation, 0, price_class, per_10k
                )
            known.requests += int(count)
    report.keys = sorted(
        (k for k in keys.values() if k.requests or (k.storage and k.storage.hours > 0)),
        key=lambda k: (k.account, k.region, k.key_id),
    )
    return report
