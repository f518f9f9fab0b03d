"""A loopback ServiceX-compatible backend for the unmodified ``servicex`` 3.x client.

It runs ServiceX transforms for real, offline, on local files: ``uproot-raw``
(``query.UprootRaw``) and ``uproot`` (``query.FuncADL_Uproot``) queries, to
``root-file`` or ``parquet`` outputs, served through the same REST API and an
S3 store on 127.0.0.1.  ``atlasr25`` (xAOD) requests are accepted and fail
with a clear message.

* :mod:`.transforms` — run one query on one file (the transformer).
* :mod:`.server` — the REST API, the S3 store, the transform pool.
* :mod:`.launcher` — :func:`serve`, the ``python -m vibeplot.core.servicex.local
  serve`` command and :class:`LocalServiceX` (a subprocess + ``servicex.yaml``).

>>> from vibeplot.core.servicex.local import LocalServiceX                   # doctest: +SKIP
>>> with LocalServiceX(log_path="run/sxlocal.log") as sx:             # doctest: +SKIP
...     config = sx.write_config("run")
...     files = deliver(spec, config_path=str(config), progress_bar="none")
"""

from vibeplot.core.servicex.local.launcher import ENDPOINT_NAME, LocalServiceX, config_text, serve

__all__ = ["ENDPOINT_NAME", "LocalServiceX", "config_text", "serve"]
