"""``python -m mlemap``: the command line (the same as ``mlemap``)."""

import sys

from .cli.main import main

sys.exit(main())
