"""One package per AWS service; each exposes a :class:`Service` subclass."""
