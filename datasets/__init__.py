"""The built-in datasets, registered as dataset resolver plugins (entry points ``catalog`` and
``embedded_sample``): :mod:`.catalog` (``catalog.toml``: rucio DIDs and OpenData files with their
metadata) and :mod:`.embedded` (the generated ADL sample, :mod:`.sample` its generator).  The types and
the resolution itself are in :mod:`vibeplot.core.resolver`."""
