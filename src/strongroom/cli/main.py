"""Entry point: ``strongroom <command>``."""

from __future__ import annotations

import click

from strongroom import __version__
from strongroom.cli.admin import accounts, root
from strongroom.cli.audit import audit
from strongroom.cli.crypto import decrypt, encrypt
from strongroom.cli.crypto_values import exec_command
from strongroom.cli.kms import kms
from strongroom.cli.policy import policy
from strongroom.cli.rotators import rotators
from strongroom.cli.server import server


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="strongroom")
def cli() -> None:
    """Strongroom: self-hosted AWS KMS, IAM/STS, Secrets Manager, Parameter Store and CloudTrail."""


cli.add_command(server)
cli.add_command(accounts)
cli.add_command(root)
cli.add_command(audit)
cli.add_command(policy)
cli.add_command(encrypt)
cli.add_command(decrypt)
cli.add_command(exec_command)
cli.add_command(kms)
cli.add_command(rotators)


def main() -> None:
    cli()
