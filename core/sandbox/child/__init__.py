"""Code that runs inside the generated script's process, before it starts ("start-up modules").

:mod:`.patch` patches a module right after it is imported; :mod:`.capture` records the
histograms drawn in every saved figure; :mod:`.values` records the values a reference
histograms; :mod:`.channel` is their pipe to vibeplot.  ``_startup/sitecustomize.py``
imports the modules the runner names.  Nothing here imports the parent side.
"""
