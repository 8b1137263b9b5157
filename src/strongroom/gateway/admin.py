"""Strongroom's own HTTP endpoints under ``/_strongroom/``."""

from __future__ import annotations

import json
import logging

from strongroom import __version__
from strongroom.gateway.request import HttpResponse
from strongroom.platform import Platform
from strongroom.services.kms.seed_fields import SeedError

log = logging.getLogger("strongroom.gateway")

# Paths under it are answered here, not routed as AWS calls.
ADMIN_PREFIX = "/_strongroom/"


def _json(status: int, payload: dict[str, object]) -> HttpResponse:
    return HttpResponse(
        status, json.dumps(payload).encode(), [("content-type", "application/json")]
    )


def handle_admin(platform: Platform, method: str, path: str) -> HttpResponse:
    route = path.split("?", 1)[0]
    if route == "/_strongroom/health" and method in ("GET", "HEAD"):
        return _json(
            200,
            {
                "status": "ok",
                "version": __version__,
                "store": platform.settings.store_kind,
                "sealed": False,
                "dev": platform.settings.dev,
                "leader": platform.jobs.leader,
            },
        )
    if route == "/_strongroom/reset" and method == "POST":
        if not platform.settings.dev:
            return _json(403, {"error": "reset is only available in --dev mode"})
        try:
            platform.reset()
        except SeedError:  # the seed file changed since the server started
            # Its problems may quote key material: the log has them, not the answer.
            log.exception("dev reset: the seed file could not be applied")
            return _json(409, {"status": "reset", "error": "seed file not applied (see the log)"})
        return _json(200, {"status": "reset"})
    return _json(404, {"error": f"no such endpoint: {method} {route}"})
