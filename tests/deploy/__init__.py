"""Offline checks of the deployment artefacts: overlays, CRDs, policies, rules, images, compose."""
