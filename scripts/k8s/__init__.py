"""Offline checks of StreamFlow's deployment artefacts: overlays, Dockerfiles, compose."""
