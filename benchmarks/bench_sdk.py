"""Encryption SDK throughput: strongroom.sdk vs the official aws-encryption-sdk, same
process, same buffer, plus cryptography's raw AES-256-GCM as the ceiling.

Run: .venv/bin/python benchmarks/bench_sdk.py [--mib 64] [--repeat 3]
Prints MB/s per case and the ratios; 1 KiB round-trip latency too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.sdk.sdk_peer

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tests.sdk import sdk_peer as peer

from strongroom import sdk

KEY = bytes(range(32))


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = os.urandom(args.mib * 1024 * 1024)
    mb = len(data) / 1e6
    ours = sdk.RawAesKeyring("bench", "key", KEY)
    theirs = peer.aes_provider("bench", "key", KEY)
    client = peer.client("REQUIRE_ENCRYPT_ALLOW_DECRYPT")
    rows: list[tuple[str, float, float, float, float]] = []
    for label, suite, frame in (
        ("default 0x0578, 4 KiB frames", 0x0578, 4096),
        ("0x0478, 64 KiB frames", 0x0478, 65536),
    ):
        msg, _ = sdk.encrypt(data, keyring=ours, algorithm_suite=suite, frame_length=frame)
        our_enc = best(
            lambda s=suite, f=frame: sdk.encrypt(
                data, keyring=ours, algorithm_suite=s, frame_length=f
            ),
            args.repeat,
        )
        our_dec = best(lambda m=msg: sdk.decrypt(m, keyring=ours), args.repeat)
        their_msg, _ = client.encrypt(
            source=data, key_provider=theirs, algorithm=peer.algorithm(suite), frame_length=frame
        )
        their_enc = best(
            lambda s=suite, f=frame: client.encrypt(
                source=data, key_provider=theirs, algorithm=peer.algorithm(s), frame_length=f
            ),
            1,
        )
        their_dec = best(lambda m=their_msg: client.decrypt(source=m, key_provider=theirs), 1)
        rows.append((label, mb / our_enc, mb / our_dec, mb / their_enc, mb / their_dec))
    aead = AESGCM(KEY)
    nonce = bytes(12)
    sealed = aead.encrypt(nonce, data, None)
    raw_enc = mb / best(lambda: aead.encrypt(nonce, data, None), args.repeat)
    raw_dec = mb / best(lambda: aead.decrypt(nonce, sealed, None), args.repeat)

    print(f"{args.mib} MiB, best of {args.repeat} (official SDK: 1 run), MB/s")
    print(
        f"{'case':32} {'ours enc':>9} {'ours dec':>9} {'AWS enc':>9} {'AWS dec':>9} {'enc x':>6} {'dec x':>6}"
    )
    for label, oe, od, te, td in rows:
        print(f"{label:32} {oe:9.0f} {od:9.0f} {te:9.0f} {td:9.0f} {oe / te:6.1f} {od / td:6.1f}")
    print(f"{'raw AES-256-GCM (one call)':32} {raw_enc:9.0f} {raw_dec:9.0f}")
    oe, od = rows[1][1], rows[1][2]
    print(f"0x0478/64 KiB vs raw AES-GCM: encrypt {oe / raw_enc:.0%}, decrypt {od / raw_dec:.0%}")

    small = os.urandom(1024)
    n = 200
    ours_rt = (
        best(
            lambda: [
                sdk.decrypt(sdk.encrypt(small, keyring=ours)[0], keyring=ours) for _ in range(n)
            ],
            1,
        )
        / n
    )
    theirs_rt = (
        best(
            lambda: [
                client.decrypt(
                    source=client.encrypt(source=small, key_provider=theirs)[0], key_provider=theirs
                )
                for _ in range(n)
            ],
            1,
        )
        / n
    )
    print(
        f"1 KiB round trip (default suite): ours {ours_rt * 1e3:.2f} ms, AWS {theirs_rt * 1e3:.2f} ms, "
        f"{theirs_rt / ours_rt:.1f}x"
    )


if __name__ == "__main__":
    main()
