"""Strongroom: the AWS security and encryption services, self-hosted and real."""

__version__ = "0.1.0"
