"""``python -m vibeplot.core.sxlocal serve [--port N] [--log FILE]`` (see :mod:`.launcher`)."""

import sys

from .launcher import main

sys.exit(main())
