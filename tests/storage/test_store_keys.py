"""The prefix-range rule both backends rely on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from strongroom.storage.keys import prefix_end

# Valid UTF-8 text: no surrogates.
text = st.text(
    alphabet=st.characters(exclude_categories=["Cs"]),
    max_size=6,
)
# Bias towards the edges: the highest code point, around the surrogates.
edgy = st.text(alphabet=st.sampled_from("a/\U0010ffff\ud7ff\ue000\uffff\U00010000"), max_size=5)


def test_prefix_end_examples() -> None:
    assert prefix_end("") is None
    assert prefix_end("a/") == "a0"
    assert prefix_end("a\U0010ffff") == "b"
    assert prefix_end("\U0010ffff\U0010ffff") is None
    assert prefix_end("x\ud7ff") == "x\ue000"


@given(prefix=st.one_of(text, edgy), key=st.one_of(text, edgy))
def test_prefix_range_matches_startswith(prefix: str, key: str) -> None:
    end = prefix_end(prefix)
    kb = key.encode()
    in_range = kb >= prefix.encode() and (end is None or kb < end.encode())
    assert in_range == key.startswith(prefix)
