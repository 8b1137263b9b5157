"""Events: what services publish for EventBridge rules and targets to consume."""
