"""From a registered rotator record to something that runs steps.

Database drivers are imported only when a database rotator is used, so the
server starts without PyMySQL when no MySQL rotator is registered.
"""

from __future__ import annotations

from strongroom.rotators.base import Rotator
from strongroom.rotators.registry import RotatorRecord


def build(record: RotatorRecord) -> Rotator:
    kind = record.type
    if kind.startswith("postgres-"):
        from strongroom.rotators.database import DatabaseRotator
        from strongroom.rotators.postgres import PostgresDriver

        return DatabaseRotator(
            PostgresDriver(), alternating=kind.endswith("alternating"), config=record.config
        )
    if kind.startswith("mysql-"):
        from strongroom.rotators.database import DatabaseRotator
        from strongroom.rotators.mysql import MySqlDriver

        return DatabaseRotator(
            MySqlDriver(), alternating=kind.endswith("alternating"), config=record.config
        )
    if kind == "http":
        from strongroom.rotators.http import HttpRotator

        return HttpRotator(record.config)
    if kind == "python":
        from strongroom.rotators.python import PythonRotator

        return PythonRotator(record.config, record.arn)
    raise ValueError(f"unknown rotator type {kind!r}")
