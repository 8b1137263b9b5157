"""CallFacts built positionally (two hot paths) carry each value in its field."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from strongroom.audit.record import CallFacts
from strongroom.bootstrap import open_platform
from strongroom.config import Settings
from strongroom.errors import ServiceError
from strongroom.gateway.pipeline import Pipeline
from strongroom.gateway.request import HttpRequest
from strongroom.iam.principal import Principal, PrincipalType
from strongroom.protocol.models import load_service

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _distinct_caller() -> CallFacts:
    """Facts whose every field holds a value no other field holds."""
    return CallFacts(
        request_id="req-1",
        event_time=NOW,
        default_account="111111111111",
        default_region="eu-north-1",
        source_ip="198.51.100.1",
        user_agent="agent/1",
        host="host.example",
        tls={"tlsVersion": "TLSv1.3"},
        claim_region="ap-south-1",
        claim_service="secretsmanager",
        access_key_id="AKIACALLER",
        key_account="222222222222",
        principal=Principal(
            type=PrincipalType.USER,
            account_id="111111111111",
            arn="arn:aws:iam::111111111111:user/alice",
            principal_id="AIDAALICE",
            user_name="alice",
            access_key_id="AKIACALLER",
        ),
        spec=load_service("secretsmanager"),
        operation="GetSecretValue",
        params={"SecretId": "s"},
        audit={"resources": ["arn:aws:secretsmanager:ap-south-1:111111111111:secret:s"]},
        event_id="evt-1",
    )


def test_nested_facts_are_what_the_same_call_given_by_keyword_gives() -> None:
    caller = _distinct_caller()
    kms = load_service("kms")
    params, result = {"CiphertextBlob": b"\x01"}, {"KeyId": "k"}
    error = ServiceError("AccessDeniedException", "no", 400)
    audit = {"resources": ["arn:aws:kms:ap-south-1:111111111111:key/k"]}
    nested = CallFacts.nested(
        caller, "secretsmanager.amazonaws.com", kms, "Decrypt", params, result, error, audit
    )
    expected = CallFacts(
        request_id=nested.request_id,  # its own, fresh
        event_time=caller.event_time,
        default_account=caller.default_account,
        default_region=caller.default_region,
        source_ip="secretsmanager.amazonaws.com",
        user_agent="secretsmanager.amazonaws.com",
        claim_region=caller.claim_region,
        principal=caller.principal,
        spec=kms,
        operation="Decrypt",
        params=params,
        result=result,
        error=error,
        audit=audit,
        invoked_by="secretsmanager.amazonaws.com",
    )
    # Equal field by field: a field added to CallFacts (which shifts the
    # positional arguments) fails here until nested() places it.
    assert nested == expected
    assert nested.request_id not in ("", caller.request_id)


def test_the_event_id_is_made_once_on_first_use() -> None:
    facts = _distinct_caller()
    facts.event_id = ""
    first = facts.ensure_event_id()
    assert first and facts.ensure_event_id() == first == facts.event_id


def test_the_pipeline_puts_each_request_value_in_its_field(tmp_path: Path) -> None:
    platform = open_platform(Settings(data_dir=tmp_path, audit_writer="thread"))
    try:
        req = HttpRequest(
            "POST",
            "/",
            "",
            {"host": "kms.example:8700", "user-agent": "boto3/1.0"},
            b"",
            client_ip="203.0.113.9",
            secure=True,
            tls_version="TLSv1.3",
            cipher_suite="TLS_AES_128_GCM_SHA256",
        )
        facts = Pipeline(platform)._facts(req)
        settings = platform.settings
        assert (facts.default_account, facts.default_region) == (
            settings.default_account_id,
            settings.region,
        )
        assert (facts.source_ip, facts.user_agent, facts.host) == (
            "203.0.113.9",
            "boto3/1.0",
            "kms.example:8700",
        )
        assert facts.tls == {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "kms.example:8700",
        }
        assert isinstance(facts.event_time, datetime) and facts.request_id
        assert facts.event_id == ""  # made only if a record is built
    finally:
        platform.close()
