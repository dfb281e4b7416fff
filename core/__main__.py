"""``python -m retrace``: the CLI, and ``--recording DIR`` to replay."""

import sys

from .cli import main

sys.exit(main())
