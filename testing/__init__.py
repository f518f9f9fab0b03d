"""Testing helpers for vibeplot and for authors of stacks: a scripted model server (:mod:`.scripted_server`)."""
