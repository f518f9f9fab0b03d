"""vibeplot core: the plugin API and shared types here, the stages in sub-packages.

question → dataset (:mod:`.resolver`) → prompt (:mod:`.ask.prompt`) → LLM (:mod:`.ask.llm`)
→ code (:mod:`.ask.extract`) → policies (:mod:`.policies`) → sandbox (:mod:`.sandbox`)
→ plots → verdict (:mod:`.ask.validate`) → run directory (:mod:`.ask.rundir`)
→ compare and report (:mod:`.bench`).  :mod:`.ask.loop` drives the stages; plugins
(:mod:`.hookspecs`, :mod:`.plugins`) bring stacks and dataset resolvers;
:mod:`.servicex` holds what the ServiceX stacks share.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vibeplot")
except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
    __version__ = "0+unknown"
