"""Cryptography: the only package that touches ``cryptography.hazmat``.

``barrier`` seals every stored value; ``root_key`` supplies the key that
seals the barrier's keyring.
"""
