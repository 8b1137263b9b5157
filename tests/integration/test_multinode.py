"""Several server processes on one PostgreSQL: shared state, one job leader, failover."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from tests.support.live_server import LiveServer, start_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _health(server: LiveServer) -> dict[str, object]:
    with urllib.request.urlopen(server.endpoint + "/_strongroom/health", timeout=5) as resp:
        return dict(json.loads(resp.read()))


def _wait_for(predicate: object, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_two_nodes_share_state_and_fail_over(fresh_pg_database: str, tmp_path: Path) -> None:
    env = {"STRONGROOM_ROOT_PASSPHRASE": "correct horse battery staple"}
    a = start_server(tmp_path / "a", "--store", fresh_pg_database, env=env)
    b = start_server(tmp_path / "b", "--store", fresh_pg_database, env=env)
    try:
        assert _health(a)["store"] == "postgresql"
        # Node a initialised the account; its admin credentials work on node b.
        creds = a.admin_credentials()
        a.client("iam", creds).create_user(UserName="shared-user")
        key = a.client("iam", creds).create_access_key(UserName="shared-user")["AccessKey"]
        assert b.client("sts", key).get_caller_identity()["Arn"].endswith("user/shared-user")
        assert any(
            u["UserName"] == "shared-user" for u in b.client("iam", creds).list_users()["Users"]
        )

        # Exactly one node leads the background jobs.
        assert _wait_for(lambda: [_health(a)["leader"], _health(b)["leader"]].count(True) == 1)
        leader, follower = (a, b) if _health(a)["leader"] else (b, a)
        leader.stop(signal.SIGKILL)
        assert _wait_for(lambda: _health(follower)["leader"] is True), "leadership did not move"
        assert follower.client("sts", key).get_caller_identity()["Account"] == "000000000000"
    finally:
        a.stop()
        b.stop()
