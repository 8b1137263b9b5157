"""Custom key stores answer documented errors until they are implemented."""

from __future__ import annotations

from tests.services.kms.kms_support import KmsEnv


def test_custom_key_stores_are_absent(kms: KmsEnv) -> None:
    assert kms.call("DescribeCustomKeyStores") == {"CustomKeyStores": [], "Truncated": False}
    err = kms.error("DescribeCustomKeyStores", CustomKeyStoreId="cks-1")
    assert err.code == "CustomKeyStoreNotFoundException"
    for op in (
        "ConnectCustomKeyStore",
        "DisconnectCustomKeyStore",
        "UpdateCustomKeyStore",
        "DeleteCustomKeyStore",
    ):
        assert kms.error(op, CustomKeyStoreId="cks-1").code == "CustomKeyStoreNotFoundException"
    err = kms.error("CreateCustomKeyStore", CustomKeyStoreName="x")
    assert err.code == "UnsupportedOperationException"
