"""The ask pipeline: question → prompt → model → code → sandbox → plots → verdict → run directory.

* :mod:`.loop` — :func:`~.loop.ask`, which drives the stages;
* :mod:`.prompt` — the first prompt and the fix prompts;
* :mod:`.llm` — model calls through litellm (tokens, cost, timeouts);
* :mod:`.oracle` — the ``reference`` pseudo-model: curated solutions, not an LLM;
* :mod:`.extract` — notes, code or a refusal out of a reply;
* :mod:`.rundir` — the run directory and its ``run.json``;
* :mod:`.validate` — the verdict: a plot's histograms against the truth values.
"""
