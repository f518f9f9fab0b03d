"""Started in every sandboxed script when the runner names start-up modules.

The runner puts this folder on ``PYTHONPATH`` and names start-up modules in
``VIBEPLOT_STARTUP`` (comma separated); each is imported before the generated
script runs.  The generated code is never edited.
"""

import importlib
import os
import sys

for _name in filter(None, os.environ.get("VIBEPLOT_STARTUP", "").split(",")):
    try:
        importlib.import_module(_name)
    except Exception as _err:  # a broken start-up module must not look like the script's fault
        print(f"vibeplot: hook {_name} failed to load: {_err}", file=sys.stderr)
