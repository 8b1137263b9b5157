"""Amazon EventBridge (the rules/targets/events subset; see docs/design/events.md)."""
