"""No secret value is ever stored in the clear: neither in the database files
(below the barrier) nor in what the barrier decrypts (the envelope layer:
only KMS ciphertext of data keys and AES-GCM ciphertext of values)."""

from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

from tests.support.live_server import LiveServer, database_bytes

from strongroom.bootstrap import open_platform
from strongroom.config import settings_from_env


def _forms(secret: bytes) -> list[bytes]:
    """The secret, and the encodings a careless store might use for it."""
    return [secret, base64.b64encode(secret), secret.hex().encode()]


def test_no_plaintext_secret_values_anywhere(server: LiveServer) -> None:
    sm = server.client("secretsmanager")
    values: list[bytes] = []
    for i in range(5):
        text = f"plain-{i}-{os.urandom(12).hex()}".encode()
        binary = b"\x00BIN" + os.urandom(24)
        values += [text, binary]
        name = f"plaintext/{uuid.uuid4().hex[:8]}"
        sm.create_secret(
            Name=name, SecretString=text.decode(), AddReplicaRegions=[{"Region": "ap-south-1"}]
        )
        sm.put_secret_value(SecretId=name, SecretBinary=binary)
        # The values really are there to be found when asked for properly.
        assert sm.get_secret_value(SecretId=name)["SecretBinary"] == binary

    files = database_bytes(Path(server.data_dir))
    assert files  # the SQLite database (and its WAL) were read
    platform = open_platform(settings_from_env(data_dir=server.data_dir))
    try:
        # Control: the scan sees decrypted values (plaintext put there is found).
        control = b"control-" + os.urandom(8).hex().encode()
        platform.store.put("secretsmanager/zz-control", control)
        sealed = b"".join(v for _, v in platform.store.iter_scan("secretsmanager/"))
        assert control in sealed
        platform.store.delete("secretsmanager/zz-control")
    finally:
        platform.close()
    for value in values:
        for form in _forms(value):
            assert form not in files, "a secret value is in the database files"
            assert form not in sealed, "a secret value is stored without envelope encryption"
