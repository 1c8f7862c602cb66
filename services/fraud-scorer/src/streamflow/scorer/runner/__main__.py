"""``python -m streamflow.scorer.runner``: same as the ``streamflow-scorer`` script."""

import sys

from streamflow.scorer.runner.cli import main

sys.exit(main())
