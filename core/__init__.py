"""vibeplot core: the pipeline stages, one module each.

question → dataset (:mod:`datasets`) → prompt (:mod:`prompt`) → LLM (:mod:`llm`)
→ code (:mod:`extract`) → policies (:mod:`policies`) → sandbox (:mod:`sandbox`)
→ plots → record (:mod:`record`).  :mod:`loop` drives the stages; plugins
(:mod:`hookspecs`, :mod:`plugins`) bring stacks and dataset resolvers.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vibeplot")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"
