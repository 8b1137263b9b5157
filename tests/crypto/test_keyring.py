from __future__ import annotations

import os

import pytest

from strongroom.crypto.errors import BarrierError
from strongroom.crypto.keyring import Keyring, Term, open_keyring, seal_keyring


def test_json_round_trip_and_rotation() -> None:
    ring = Keyring.new(100.0).rotated(200.0)
    back = Keyring.from_json(ring.to_json())
    assert back.active == 2
    assert {n: (t.key, t.created) for n, t in back.terms.items()} == {
        n: (t.key, t.created) for n, t in ring.terms.items()
    }


def test_repr_shows_no_key_material() -> None:
    ring = Keyring.new(0.0)
    key = ring.terms[1].key
    assert key.hex() not in repr(ring) and repr(key) not in repr(ring)
    assert repr(key) not in repr(ring.terms[1])


def test_sealed_under_root_and_bound_to_its_path() -> None:
    root = os.urandom(32)
    ring = Keyring.new(0.0)
    blob = seal_keyring(root, ring)
    assert ring.terms[1].key not in blob
    assert open_keyring(root, blob).terms[1].key == ring.terms[1].key
    with pytest.raises(BarrierError, match="root key does not open the keyring"):
        open_keyring(os.urandom(32), blob)
    with pytest.raises(ValueError):
        seal_keyring(b"short", ring)


def test_invalid_keyrings_are_refused() -> None:
    with pytest.raises(ValueError):
        Keyring({1: Term(1, b"x" * 16, 0.0)}, 1)
    with pytest.raises(ValueError):
        Keyring({1: Term(1, b"x" * 32, 0.0)}, 2)
    with pytest.raises(BarrierError, match="malformed"):
        Keyring.from_json(b'{"format": 1}')
