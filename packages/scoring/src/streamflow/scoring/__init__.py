"""StreamFlow scoring core: per-customer state, features, rules, model evaluation, one step.

A library (no Flink, no Kafka, no CLI): it needs only numpy, orjson, pyyaml and the event
contracts, so the PyFlink job (``services/fraud-scorer``) and the lab's backtest and training
(``services/fraud-lab``) import it unchanged (docs/adr/0120).
"""

from streamflow.scoring.core import (
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
