"""The server's uvicorn protocol, reporting TLS through the ASGI TLS extension.

CloudTrail records each request's TLS version and cipher suite
(``tlsDetails``). An ASGI server reports them in
``scope["extensions"]["tls"]`` (the ASGI TLS extension: ``tls_version`` as
the TLS protocol number, ``cipher_suite`` as the IANA code), but uvicorn
does not implement that extension (encode/uvicorn#1118), and the
transport's SSL object is not reachable from the application. This
subclass of the server's httptools protocol (gateway/http_protocol.py)
reads the negotiated version and cipher once per connection (the transport
calls ``connection_made`` after the handshake) and adds the extension to
every request's scope on it.

``strongroom server`` uses it only when it serves TLS; plain HTTP keeps the
parent class, untouched. The gateway reads only the extension, so another
ASGI server that implements it needs nothing from here.
"""

from __future__ import annotations

import ssl
from functools import lru_cache
from typing import Any, cast

from strongroom.gateway.http_protocol import CoalescingHttpToolsProtocol

# SSLObject.version() -> the protocol number the ASGI extension uses.
TLS_VERSIONS = {"TLSv1": 0x0301, "TLSv1.1": 0x0302, "TLSv1.2": 0x0303, "TLSv1.3": 0x0304}


@lru_cache(maxsize=8)
def _suite_codes(context: ssl.SSLContext) -> dict[str, int]:
    """OpenSSL cipher name -> IANA code, for the ciphers ``context`` enables.

    OpenSSL's cipher ids are ``0x0300`` followed by the two IANA bytes."""
    return {c["name"]: c["id"] & 0xFFFF for c in context.get_ciphers()}


def tls_extension(ssl_object: ssl.SSLObject | None) -> dict[str, Any] | None:
    """The ASGI TLS extension's dict for one connection; None when not TLS."""
    if ssl_object is None:
        return None
    cipher = ssl_object.cipher()
    suite = _suite_codes(ssl_object.context).get(cipher[0]) if cipher else None
    version = ssl_object.version()
    return {
        # Optional members we do not know or do not need (no client
        # certificates are requested): the spec's defaults.
        "server_cert": None,
        "client_cert_chain": [],
        "client_cert_name": None,
        "client_cert_error": None,
        "tls_version": TLS_VERSIONS.get(version) if version else None,
        "cipher_suite": suite,
    }


class TlsHttpToolsProtocol(CoalescingHttpToolsProtocol):
    """The server's protocol, with ``extensions.tls`` in each request's scope."""

    # The scope's type for extension dicts (uvicorn._types).
    _tls: dict[object, object] | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        try:
            tls = tls_extension(transport.get_extra_info("ssl_object"))
            self._tls = cast("dict[object, object] | None", tls)
        except (ssl.SSLError, ValueError, AttributeError):
            # No details rather than no connection: tlsDetails keeps the host.
            self._tls = None

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._tls is not None:
            # One dict per connection, shared by its requests: the gateway
            # only reads it.
            self.scope["extensions"] = {"tls": self._tls}
