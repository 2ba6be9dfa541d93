"""Run the command line with ``python -m custintel``."""

import sys

from custintel.cli import main

sys.exit(main())
