"""`python -m kerascnn` runs the `kerascnn` command."""

import sys

from kerascnn.cli import main

sys.exit(main())
