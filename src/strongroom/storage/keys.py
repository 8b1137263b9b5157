"""Key rules shared by every backend.

Both backends must order keys the same way: bytewise on UTF-8, which is the
same as code-point order. A prefix scan is therefore the half-open range
``[prefix, prefix_end(prefix))``, which each backend answers from its
primary-key index instead of a ``LIKE`` that could not use it.
"""

from __future__ import annotations

_MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def check_key(key: str) -> None:
    """Reject keys that one backend could store and the other could not.

    PostgreSQL text cannot hold NUL, so neither backend accepts it: data must
    move between backends unchanged. The empty key has no place in a
    '/'-separated namespace.
    """
    if not isinstance(key, str):
        raise TypeError(f"storage keys are str, not {type(key).__name__}")
    if not key:
        raise ValueError("storage key must not be empty")
    if "\x00" in key:
        raise ValueError("storage key must not contain NUL")


def check_value(value: bytes) -> None:
    if not isinstance(value, bytes):
        raise TypeError(f"storage values are bytes, not {type(value).__name__}")


def prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string starting with ``prefix``.

    None when there is none (empty prefix, or a prefix of only U+10FFFF), in
    which case the scan has no upper bound. Surrogates cannot occur in UTF-8
    keys, so the successor of U+D7FF is U+E000.
    """
    chars = list(prefix)
    while chars:
        code = ord(chars[-1])
        if code < _MAX_CODE_POINT:
            code += 1
            if code in _SURROGATES:
                code = _SURROGATES.stop
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None
