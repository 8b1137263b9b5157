"""The HTTP request and response as the pipeline sees them (no ASGI types)."""

from __future__ import annotations

from dataclasses import dataclass, field


# Not frozen (nothing changes it once built): a frozen dataclass's __init__
# sets each field through object.__setattr__, 3 µs against 0.5 µs here, and
# every request builds one.
@dataclass(slots=True)
class HttpRequest:
    method: str
    path: str  # raw, still percent-encoded (SigV4 signs the encoded form)
    query: str  # raw query string
    headers: dict[str, str]  # lower-case names; repeated headers joined with ","
    body: bytes
    client_ip: str = "127.0.0.1"
    secure: bool = False  # served over TLS
    # From the ASGI TLS extension when the server provides it (audit tlsDetails).
    tls_version: str = ""
    cipher_suite: str = ""


@dataclass
class HttpResponse:
    status: int
    body: bytes
    headers: list[tuple[str, str]] = field(default_factory=list)
