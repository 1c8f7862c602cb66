"""``python -m streamflow.ingestor``: same as the ``streamflow-ingestor`` console script."""

from streamflow.ingestor.cli import main

raise SystemExit(main())
