"""What the ServiceX stacks share: the local ServiceX-compatible backend (:mod:`.local`)."""
