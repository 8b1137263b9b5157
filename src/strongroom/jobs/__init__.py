"""Background work (deletions, rotations, expirations), leader-elected across nodes."""
