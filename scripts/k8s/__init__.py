"""Offline checks of StreamFlow's deployment artefacts (Kustomize overlays, Dockerfiles, compose)."""
