"""``python -m mlplab``: the same as the ``mlplab`` command."""

import sys

from mlplab.cli import main

sys.exit(main())
