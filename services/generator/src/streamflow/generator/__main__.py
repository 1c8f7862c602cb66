"""``python -m streamflow.generator``: same as the ``streamflow-generate`` console script."""

from streamflow.generator.cli import main

raise SystemExit(main())
