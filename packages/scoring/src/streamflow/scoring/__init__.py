"""StreamFlow fraud scorer: the plain-Python scoring core, the anomaly model, backtest and tools.

The core (:mod:`streamflow.scoring.core`) needs only numpy and the event contracts, so the PyFlink
job imports it unchanged; training and the backtest's plots use the ``train`` extra.
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
