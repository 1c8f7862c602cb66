"""The API-key CLI: create (printed once or written 0600), list, revoke."""

from __future__ import annotations

import pytest

from streamflow.alert_api.keys import main
from streamflow.platform.settings import PostgresSettings

pytestmark = pytest.mark.integration


def test_create_list_revoke(
    pg_settings: PostgresSettings,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pathlib import Path

    monkeypatch.setenv("STREAMFLOW_PG_DATABASE", pg_settings.database)
    out = Path(str(tmp_path)) / "sub" / "demo-api-key"
    assert (
        main(
            ["create", "--name", "demo", "--scopes", "alerts:read,alerts:write", "--out", str(out)]
        )
        == 0
    )
    key = out.read_text().strip()
    assert key.startswith("sfk_")
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert key not in capsys.readouterr().out
    assert main(["create", "--name", "printed"]) == 0
    printed = capsys.readouterr().out
    assert "sfk_" in printed
    assert main(["create", "--name", "bad", "--scopes", "alerts:delete"]) == 2
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "demo\talerts:read,alerts:write" in listing
    assert key not in listing
    key_id = listing.split("\t")[0]
    assert main(["revoke", key_id]) == 0
    assert main(["revoke", key_id]) == 1
    assert "revoked" in (capsys.readouterr().out)
    monkeypatch.setenv("STREAMFLOW_PG_PORT", "nope")
    assert main(["list"]) == 2
