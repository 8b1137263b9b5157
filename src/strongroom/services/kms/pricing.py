"""What KMS usage would cost at AWS's published prices (docs/design/kms-usage.md).

Prices are AWS KMS list prices in US East (N. Virginia), from
https://aws.amazon.com/kms/pricing/ ("Key storage", "Key usage") and the AWS
Security Blog post "The curious case of faster AWS KMS symmetric key
rotation" (April 2024: rotations beyond the second are free). They were
checked again in 2026-11 against the pricing page's "Key usage" list (the
same five request prices) and the AWS Pricing Calculator's KMS fields, which
use the same classes ("symmetric requests", "asymmetric requests except RSA
2048", "asymmetric requests involving RSA 2048", "ECC GenerateDataKeyPair
requests", "RSA GenerateDataKeyPair requests"). They are data, not
behaviour: update the constants when AWS changes them.

Money is :class:`~decimal.Decimal` so that sums of many tiny request charges
do not drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from strongroom.crypto.kms import KEY_SPECS
from strongroom.services.kms.meter import PAIR_OPERATIONS
from strongroom.services.kms.records import KeyRecord, KeyState, parse_iso

PRICES_AS_OF = "2026-11 (us-east-1)"
# "Each AWS KMS key that you create in AWS KMS costs $1/month (prorated hourly)."
KEY_MONTH = Decimal("1.00")
# AWS prorates monthly prices by the hour over a 730-hour month (365 * 24 / 12).
HOURS_PER_MONTH = Decimal(730)
# "each newly generated backing key costs an additional $1/month", for the
# first and second rotation only (rotations after the second are free).
ROTATION_MONTH = Decimal("1.00")
BILLED_ROTATIONS = 2
# Request prices, per 10,000 requests ("Key usage" on the pricing page).
# "$0.03 per 10,000 requests": symmetric encryption and HMAC keys (HMAC keys
# are symmetric; the page prices no HMAC class of its own).
SYMMETRIC_PER_10K = Decimal("0.03")
# "$0.03 per 10,000 requests involving RSA 2048 keys"
RSA_2048_PER_10K = Decimal("0.03")
# "$0.15 per 10,000 asymmetric requests except RSA 2048": RSA 3072/4096, every
# ECC curve (Ed25519 included), ML-DSA, SM2.
ASYMMETRIC_PER_10K = Decimal("0.15")
# "$0.10 per 10,000 ECC GenerateDataKeyPair requests" (and WithoutPlaintext)
ECC_PAIR_PER_10K = Decimal("0.10")
# "$12.00 per 10,000 RSA GenerateDataKeyPair requests", whatever the RSA size:
# an RSA 2048 *pair* is not the cheap RSA 2048 rate, which is for RSA 2048 keys.
RSA_PAIR_PER_10K = Decimal("12.00")
# Shown in reports, not deducted: the free tier is per calendar month and
# account, and excludes asymmetric requests and data key pair generation.
FREE_TIER_REQUESTS = 20_000
_ROTATIONS = ("AUTOMATIC", "ON_DEMAND")


def request_price(key_spec: str, operation: str) -> tuple[str, Decimal]:
    """(price class, price per 10,000) of one request.

    ``operation`` is a meter label: the API operation, and for data key
    pairs ``GenerateDataKeyPair:<KeyPairSpec>``, which AWS prices by the pair
    generated rather than by the (symmetric) KMS key.
    """
    name, _, pair_spec = operation.partition(":")
    if name in PAIR_OPERATIONS and pair_spec:
        if pair_spec.startswith("RSA_"):
            return "RSA data key pair", RSA_PAIR_PER_10K
        return "ECC data key pair", ECC_PAIR_PER_10K
    info = KEY_SPECS.get(key_spec)
    if info is None or not info.asymmetric:
        return "symmetric", SYMMETRIC_PER_10K
    if key_spec == "RSA_2048":
        return "RSA 2048", RSA_2048_PER_10K
    return "asymmetric", ASYMMETRIC_PER_10K


def request_cost(count: int, per_10k: Decimal) -> Decimal:
    return per_10k * count / 10_000


@dataclass
class StorageCharge:
    """The monthly fees of one key over a period."""

    hours: Decimal  # hours the key was billable in the period
    key_months: Decimal  # hours / 730
    rotation_months: Decimal  # backing-key months for billed rotations
    billed_rotations: int  # rotations (at most 2) billed in the period

    @property
    def cost(self) -> Decimal:
        return self.key_months * KEY_MONTH + self.rotation_months * ROTATION_MONTH


def _hours(start: datetime, end: datetime) -> Decimal:
    if end <= start:
        return Decimal(0)
    return Decimal(str((end - start).total_seconds())) / 3600


def billable_until(record: KeyRecord, until: datetime) -> datetime:
    """When the key stopped costing money: AWS does not charge for keys
    scheduled for deletion (and charges as if never scheduled when the
    deletion is canceled, which our record then no longer shows)."""
    if (
        record.state == KeyState.PENDING_DELETION.value
        and record.deletion_date is not None
        and record.pending_window_days is not None
    ):
        scheduled = parse_iso(record.deletion_date) - timedelta(days=record.pending_window_days)
        return min(until, scheduled)
    return until


def storage_charge(record: KeyRecord, since: datetime, until: datetime) -> StorageCharge:
    """Key-months and rotation backing-key months of ``record`` in [since, until)."""
    zero = Decimal(0)
    if record.manager != "CUSTOMER":  # AWS managed keys: no monthly fee
        return StorageCharge(zero, zero, zero, 0)
    end = billable_until(record, until)
    start = max(since, parse_iso(record.created))
    hours = _hours(start, end)
    rotations = sorted(
        parse_iso(m.rotated or m.created) for m in record.materials if m.rotation_type in _ROTATIONS
    )[:BILLED_ROTATIONS]
    rotation_hours = [_hours(max(start, rotated), end) for rotated in rotations]
    return StorageCharge(
        hours=hours,
        key_months=hours / HOURS_PER_MONTH,
        rotation_months=sum(rotation_hours, zero) / HOURS_PER_MONTH,
        billed_rotations=sum(1 for h in rotation_hours if h > 0),
    )
