"""StreamFlow alert API: FastAPI queries over alerts, analyst feedback, and the analyst console."""
