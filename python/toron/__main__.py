"""``python -m toron``: the ``toron`` command line."""

import sys

from toron.cli import main

sys.exit(main())
