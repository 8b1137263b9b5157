"""The ASGI gateway: the only code that knows about HTTP and ASGI."""
