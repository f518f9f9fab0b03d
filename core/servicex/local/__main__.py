"""``python -m vibeplot.core.servicex.local serve [--port N] [--log FILE]`` (see :mod:`.launcher`)."""

import sys

from vibeplot.core.servicex.local.launcher import main

sys.exit(main())
