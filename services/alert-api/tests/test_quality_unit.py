"""The quality dashboard's pure aggregation (quality.py, ADR 0102): no database, no Prometheus."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from streamflow.alert_api import quality
from streamflow.alert_api.quality import PrometheusAnswerError

D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)


def _mart(day: date, rule: str, alerts: int, fraud: int, legit: int, total: int) -> dict[str, Any]:
    return {
        "event_date": day,
        "rule_id": rule,
        "alerts": alerts,
        "confirmed_fraud": fraud,
        "false_positives": legit,
        "fraud_total": total,
    }


def test_day_axis_includes_both_ends() -> None:
    assert quality.day_axis(D1, D3) == [D1, D2, D3]
    assert quality.day_axis(D3, D1) == []


def test_rule_quality_pivots_days_and_recomputes_totals_from_counts() -> None:
    # The dbt unit test's day (agg_detection_quality_precision_recall) plus a second day.
    rows = [
        _mart(D1, "ALL", 2, 1, 1, 2),
        _mart(D1, "FR-001", 2, 1, 1, 2),
        _mart(D1, "FR-002", 1, 1, 0, 2),
        _mart(D3, "ALL", 4, 3, 0, 4),
        _mart(D3, "FR-002", 4, 3, 0, 4),
        _mart(date(2026, 10, 1), "ALL", 99, 0, 0, 0),  # outside the axis: ignored
    ]
    fraud_total, rules = quality.rule_quality(rows, [D1, D2, D3])
    assert fraud_total == [2, 0, 4]
    assert [r.rule_id for r in rules] == ["ALL", "FR-002", "FR-001"]  # ALL, then by alerts
    all_, fr2, fr1 = rules
    assert (all_.alerts, all_.confirmed_fraud, all_.false_positives, all_.unlabelled) == (
        6,
        4,
        1,
        1,
    )
    assert all_.precision == 0.8  # 4 / 5 labelled, not the mean of 0.5 and 1.0
    assert all_.recall == round(4 / 6, 4)  # 4 of the 6 frauds of the period
    assert all_.daily.alerts == [2, 0, 4]
    assert all_.daily.precision == [0.5, None, 1.0]
    assert all_.daily.recall == [0.5, None, 0.75]
    # FR-001 did not fire on day 3, when 4 frauds were confirmed: its recall there is 0.
    assert fr1.daily.alerts == [2, 0, 0]
    assert fr1.daily.recall == [0.5, None, 0.0]
    assert fr1.recall == round(1 / 6, 4)
    assert fr2.precision == 1.0
    assert fr2.unlabelled == 1


def test_rule_quality_of_nothing() -> None:
    assert quality.rule_quality([], [D1, D2]) == ([0, 0], [])


def test_verdict_days_fill_missing_days_and_keep_the_overall_row() -> None:
    rows: list[dict[str, Any]] = [
        {
            "day": None,
            "alerts": 5,
            "judged": 3,
            "p50": 600.04,
            "p90": 3000.0,
            "mean": 1200.0,
            "oldest_pending": 90000.0,
        },
        {"day": D1, "alerts": 4, "judged": 3, "p50": 600.04, "p90": 3000.0, "mean": 1200.0},
        {"day": D3, "alerts": 1, "judged": 0, "p50": None, "p90": None, "mean": None},
    ]
    days, overall = quality.verdict_days(rows, [D1, D2, D3])
    assert [(d.day, d.alerts, d.judged, d.pending, d.p50_seconds) for d in days] == [
        (D1, 4, 3, 1, 600.0),
        (D2, 0, 0, 0, None),
        (D3, 1, 0, 1, None),
    ]
    assert (overall.alerts, overall.judged, overall.pending) == (5, 3, 2)
    assert overall.oldest_pending_seconds == 90000.0


def test_verdict_days_without_alerts() -> None:
    days, overall = quality.verdict_days([], [D1])
    assert days[0].alerts == 0
    assert days[0].p50_seconds is None
    assert overall.alerts == 0
    assert overall.oldest_pending_seconds is None


def _matrix(*series: list[tuple[float, str]]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [{"metric": {"i": str(i)}, "values": s} for i, s in enumerate(series)],
        },
    }


def test_matrix_points_combine_series_and_drop_nan() -> None:
    body = _matrix([(100.0, "1.5"), (115.0, "NaN")], [(100.0, "2"), (115.0, "3")])
    assert quality.matrix_points(body, sum) == {100.0: 3.5, 115.0: 3.0}
    assert quality.matrix_points(body, max) == {100.0: 2.0, 115.0: 3.0}
    assert quality.matrix_points(_matrix(), sum) == {}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "error", "error": "parse error at char 5"}, "parse error"),
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, "matrix"),
    ],
)
def test_matrix_points_refuse_what_is_not_a_successful_matrix(
    body: dict[str, Any], message: str
) -> None:
    with pytest.raises(PrometheusAnswerError, match=message):
        quality.matrix_points(body, sum)


def test_time_axis_ends_now_in_whole_seconds() -> None:
    axis = quality.time_axis(1000.0 + 7.9, minutes=5, step=15)
    assert axis[-1] == 1007.0
    assert axis[0] == 1007.0 - 300
    assert len(axis) == 21
    assert all(b - a == 15 for a, b in itertools.pairwise(axis))
    uneven = quality.time_axis(2000.0, minutes=15, step=7)
    assert uneven[-1] == 2000.0
    assert len(uneven) == 900 // 7 + 1


def test_align_and_latest() -> None:
    values = quality.align({10.0: 1.23456789, 30.0: 2.0}, [10.0, 20.0, 30.0, 40.0])
    assert values == [1.234568, None, 2.0, None]
    assert quality.latest(values) == 2.0
    assert quality.latest([None, None]) is None
    assert quality.ratio(1, 3) == 0.3333
    assert quality.ratio(1, 0) is None
