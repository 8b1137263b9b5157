"""The ``strongroom`` command."""
