"""The fraud episodes, one module per scenario, over the shared row builder (``builder``).

An episode is ``episode(builder, params, day_start, rows)``: it draws one fraud episode of its
scenario starting on the day at ``day_start`` (UTC ms of local midnight) and adds its payments
to ``rows``; it raises :class:`~streamflow.generator.episodes.builder.NoVictimError` when nobody
is left to defraud. :data:`EPISODES` maps every fraud scenario to its episode.
"""

from __future__ import annotations

from collections.abc import Callable

from streamflow.generator.batch import Rows
from streamflow.generator.episodes import (
    account_takeover,
    blacklist,
    card_drift,
    card_testing,
    cash_out,
    compromised_terminal,
    impossible_travel,
    odd_hour,
    rule_evasion,
    terminal_days,
)
from streamflow.generator.episodes.builder import EpisodeBuilder
from streamflow.generator.scenarios import Scenario, ScenarioParams

Episode = Callable[[EpisodeBuilder, ScenarioParams, int, Rows], None]

EPISODES: dict[Scenario, Episode] = {
    Scenario.CARD_TESTING: card_testing.episode,
    Scenario.ACCOUNT_TAKEOVER: account_takeover.episode,
    Scenario.IMPOSSIBLE_TRAVEL: impossible_travel.episode,
    Scenario.ODD_HOUR: odd_hour.episode,
    Scenario.COMPROMISED_TERMINAL: compromised_terminal.episode,
    Scenario.BLACKLIST: blacklist.episode,
    Scenario.RULE_EVASION: rule_evasion.episode,
    Scenario.CARD_DRIFT: card_drift.episode,
    Scenario.TERMINAL_DAYS: terminal_days.episode,
    Scenario.CASH_OUT: cash_out.episode,
}
