"""The built-in database rotators: AWS's single-user and alternating-users strategies.

The secret holds AWS's JSON shape: ``{"engine", "host", "port", "username",
"password", "dbname"}``, plus ``"masterarn"`` (the ARN of a secret holding
an administrator's credentials) for alternating users.

- Single user: the user changes its own password. Simple, but for the
  instant between setSecret and finishSecret clients holding AWSCURRENT
  cannot log in.
- Alternating users: two users, ``name`` and ``name_clone``; each rotation
  gives the *other* one a new password (creating it, with the first user's
  privileges, the first time) using the master credentials, then makes it
  current. The previous credentials keep working until the next rotation.

The drivers (PostgreSQL, MySQL/MariaDB) differ only in SQL; the step logic
here follows AWS's published rotation templates, written anew.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from strongroom.rotators.base import RotationError, SecretsClient

CURRENT, PENDING, PREVIOUS = "AWSCURRENT", "AWSPENDING", "AWSPREVIOUS"
DEFAULT_EXCLUDE = "/@\"'\\:"
CLONE = "_clone"


class DatabaseDriver(Protocol):
    engines: tuple[str, ...]
    default_port: int
    max_username: int

    def connect(self, secret: dict[str, Any], timeout: float) -> Any | None:
        """An open connection, or None when these credentials do not log in."""

    def set_own_password(self, conn: Any, secret: dict[str, Any]) -> None: ...

    def upsert_user(self, conn: Any, secret: dict[str, Any], template_user: str) -> None:
        """Create ``secret``'s user like ``template_user``, or set its password."""

    def check(self, conn: Any) -> None:
        """Run a harmless query; raise when the connection cannot."""

    def close(self, conn: Any) -> None: ...


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def clone_name(username: str, max_length: int) -> str:
    """The other user of an alternating pair."""
    if username.endswith(CLONE):
        return username[: -len(CLONE)]
    return username[: max_length - len(CLONE)] + CLONE


class DatabaseRotator:
    def __init__(
        self, driver: DatabaseDriver, *, alternating: bool, config: dict[str, Any]
    ) -> None:
        self.driver = driver
        self.alternating = alternating
        self.timeout = float(config.get("connect_timeout", 5))
        self.exclude = str(config.get("exclude_characters", DEFAULT_EXCLUDE))
        self.length = int(config.get("password_length", 32))

    # -- helpers -----------------------------------------------------------------

    def _secret(
        self, client: SecretsClient, arn: str, stage: str, token: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"SecretId": arn, "VersionStage": stage}
        if token is not None:
            params["VersionId"] = token
        value = client.get_secret_value(**params)
        try:
            secret = json.loads(value["SecretString"])
        except (KeyError, ValueError):
            raise RotationError(f"The {stage} value of {arn} is not a JSON object.") from None
        if not isinstance(secret, dict):
            raise RotationError(f"The {stage} value of {arn} is not a JSON object.")
        for field in ("host", "username", "password"):
            if field not in secret:
                raise RotationError(f"The {stage} value of {arn} has no {field!r} field.")
        engine = str(secret.get("engine", self.driver.engines[0]))
        if engine not in self.driver.engines:
            raise RotationError(
                f"The secret's engine {engine!r} is not one of {', '.join(self.driver.engines)}."
            )
        secret.setdefault("port", self.driver.default_port)
        return secret

    @contextmanager
    def _login(self, *candidates: dict[str, Any] | None) -> Iterator[Any | None]:
        conn = None
        for secret in candidates:
            if secret is not None:
                conn = self.driver.connect(secret, self.timeout)
                if conn is not None:
                    break
        try:
            yield conn
        finally:
            if conn is not None:
                self.driver.close(conn)

    # -- the contract ------------------------------------------------------------

    def invoke(self, event: dict[str, str], client: SecretsClient) -> None:
        arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
        metadata = client.describe_secret(SecretId=arn)
        versions = metadata.get("VersionIdsToStages", {})
        if token not in versions:
            raise RotationError(f"Secret version {token} has no stage for rotation of {arn}.")
        if CURRENT in versions[token]:
            return  # already rotated: every step is a no-op
        if PENDING not in versions[token]:
            raise RotationError(f"Secret version {token} is not set as AWSPENDING for {arn}.")
        steps = {
            "createSecret": self._create_secret,
            "setSecret": self._set_secret,
            "testSecret": self._test_secret,
            "finishSecret": self._finish_secret,
        }
        if step not in steps:
            raise RotationError(f"Unknown rotation step {step!r}.")
        steps[step](client, arn, token)

    def _create_secret(self, client: SecretsClient, arn: str, token: str) -> None:
        current = self._secret(client, arn, CURRENT)
        try:
            client.get_secret_value(SecretId=arn, VersionId=token, VersionStage=PENDING)
            return  # created by an earlier attempt
        except Exception as exc:
            if _error_code(exc) != "ResourceNotFoundException":
                raise
        pending = dict(current)
        if self.alternating:
            pending["username"] = clone_name(str(current["username"]), self.driver.max_username)
        password = client.get_random_password(
            PasswordLength=self.length, ExcludeCharacters=self.exclude
        )["RandomPassword"]
        pending["password"] = password
        client.put_secret_value(
            SecretId=arn,
            ClientRequestToken=token,
            SecretString=json.dumps(pending),
            VersionStages=[PENDING],
        )

    def _set_secret(self, client: SecretsClient, arn: str, token: str) -> None:
        pending = self._secret(client, arn, PENDING, token)
        current = self._secret(client, arn, CURRENT)
        if pending["host"] != current["host"]:
            raise RotationError("The pending secret names another host than the current one.")
        if self.alternating:
            self._set_alternating(client, arn, pending, current)
            return
        if pending["username"] != current["username"]:
            raise RotationError("The pending secret names another user than the current one.")
        try:
            previous: dict[str, Any] | None = self._secret(client, arn, PREVIOUS)
        except Exception:
            previous = None
        # Unlike AWS's templates, the password is (re)set even when the pending
        # credentials already log in: setting it twice is harmless, and a server
        # that trusts local connections accepts any password, so a successful
        # login would prove nothing. Pending comes first for the retry of a
        # rotation whose setSecret already ran.
        with self._login(pending, current, previous) as conn:
            if conn is None:
                raise RotationError(
                    "Unable to log into the database with the previous, current or pending secret."
                )
            self.driver.set_own_password(conn, pending)

    def _set_alternating(
        self, client: SecretsClient, arn: str, pending: dict[str, Any], current: dict[str, Any]
    ) -> None:
        if pending["username"] not in (
            current["username"],
            clone_name(str(current["username"]), self.driver.max_username),
        ):
            raise RotationError("The pending user is neither the current user nor its clone.")
        master_arn = current.get("masterarn")
        if not master_arn:
            raise RotationError("An alternating-users secret needs a 'masterarn' field.")
        master = self._secret(client, str(master_arn), CURRENT)
        admin = {**pending, "username": master["username"], "password": master["password"]}
        with self._login(admin) as conn:
            if conn is None:
                raise RotationError("Unable to log into the database with the master secret.")
            self.driver.upsert_user(conn, pending, str(current["username"]))

    def _test_secret(self, client: SecretsClient, arn: str, token: str) -> None:
        pending = self._secret(client, arn, PENDING, token)
        with self._login(pending) as conn:
            if conn is None:
                raise RotationError("The pending credentials do not log into the database.")
            self.driver.check(conn)

    def _finish_secret(self, client: SecretsClient, arn: str, token: str) -> None:
        metadata = client.describe_secret(SecretId=arn)
        holder = None
        for vid, stages in metadata.get("VersionIdsToStages", {}).items():
            if CURRENT in stages:
                holder = vid
        if holder == token:
            return
        client.update_secret_version_stage(
            SecretId=arn, VersionStage=CURRENT, MoveToVersionId=token, RemoveFromVersionId=holder
        )
