"""StreamFlow scoring core: per-customer state, features, rules, model evaluation, one step.

A library (no Flink, no Kafka, no CLI): it needs only numpy, orjson, pyyaml and the event
contracts, so the PyFlink job (``services/fraud-scorer``) and the lab's backtest and training
(``services/fraud-lab``) import it unchanged (docs/adr/0120). Where a compiled build of the
per-event modules exists for these very sources (the PyFlink environment), they load from it
(:mod:`streamflow.scoring.compiled`, docs/adr/0123).
"""

from streamflow.scoring.compiled import activate

COMPILED = activate(__path__)
"""Whether the per-event modules below load from a compiled (mypyc) build."""

from streamflow.scoring.core import (  # noqa: E402 - after the compiled build is in the path
    FEATURE_NAMES,
    AnomalyModel,
    CustomerState,
    EventTimeInFuture,
    MerchantRisk,
    ModelFormatError,
    RuleUpdateRejected,
    StateFormatError,
    apply_feedback,
    apply_rule_update,
    default_rules,
    features,
    load_model,
    risk_at,
    score_transaction,
    score_view,
    validate_transaction,
)

__all__ = [
    "COMPILED",
    "FEATURE_NAMES",
    "AnomalyModel",
    "CustomerState",
    "EventTimeInFuture",
    "MerchantRisk",
    "ModelFormatError",
    "RuleUpdateRejected",
    "StateFormatError",
    "apply_feedback",
    "apply_rule_update",
    "default_rules",
    "features",
    "load_model",
    "risk_at",
    "score_transaction",
    "score_view",
    "validate_transaction",
]
