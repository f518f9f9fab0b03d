"""What the ServiceX stacks share, so that no stack imports another.

* :mod:`.runner` — run a script against the local backend or a real ServiceX
  (rucio), the pre-LLM dataset check, the dataset section's ServiceX lines;
* :mod:`.preflight` — the xAOD pre-flight policy, with :mod:`.preflight_child`,
  the hook that runs inside the sandboxed script;
* :mod:`.policies` — ``NFiles=1``; :mod:`.explainers` — advice on failed deliveries;
* :mod:`.local` — the loopback ServiceX-compatible backend.

A stack uses what it needs, e.g. ``runner=vibeplot.core.servicex.runner.run``.
"""
