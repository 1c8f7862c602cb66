"""Find the newest retained checkpoint under a job's checkpoint directory.

Flink writes ``<dir>/<job id>/chk-<n>/_metadata``; a restarted job gets a new job id, so the
newest complete checkpoint is searched across all job ids (by the time ``_metadata`` was written,
which Flink writes last, so a half-written checkpoint is never picked).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse


def local_path(uri: str) -> Path | None:
    """The local directory of a ``file://`` URI or plain path; None for remote storage."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(unquote(parsed.path))
    return None


def latest_checkpoint(checkpoint_dir: str) -> Path | None:
    """The newest complete ``chk-*`` directory, or None when there is none (or it is remote)."""
    root = local_path(checkpoint_dir)
    if root is None or not root.is_dir():
        return None
    complete = [meta for meta in root.glob("*/chk-*/_metadata") if meta.is_file()]
    if not complete:
        return None
    newest = max(complete, key=lambda meta: (meta.stat().st_mtime_ns, meta.parent.name))
    return newest.parent
