"""``python -m streamflow.fraud_scorer.runner``: same as the ``streamflow-scorer`` script."""

import sys

from streamflow.fraud_scorer.runner.cli import main

sys.exit(main())
