"""Started in every sandboxed script when the runner asks for hooks.

The runner puts this folder on ``PYTHONPATH`` and names hook modules in
``VIBEPLOT_HOOKS`` (comma separated); each is imported before the generated
script runs.  The generated code is never edited.
"""

import importlib
import os
import sys

for _name in filter(None, os.environ.get("VIBEPLOT_HOOKS", "").split(",")):
    try:
        importlib.import_module(_name)
    except Exception as _err:  # a broken hook must not look like the script's fault
        print(f"vibeplot: hook {_name} failed to load: {_err}", file=sys.stderr)
