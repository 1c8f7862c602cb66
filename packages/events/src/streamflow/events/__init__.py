"""StreamFlow event contracts: one Key and one Value model per Kafka topic, pydantic only.

Import the models and the codec from here; topic names and their Kafka settings live in
:mod:`streamflow.events.topics`.
"""

from streamflow.events.alerts import (
    FraudAlert,
    FraudAlertKey,
    Severity,
    TriggeredRule,
    alert_id_for,
)
from streamflow.events.base import Contract
from streamflow.events.codec import decode, decode_key, encode, encode_key
from streamflow.events.dead_letters import DeadLetter, DeadLetterKey, PayloadEncoding, Stage
from streamflow.events.errors import ContractError, FieldError, SchemaVersionError
from streamflow.events.feedback import (
    AnalystVerdict,
    Feedback,
    FeedbackKey,
    FeedbackSource,
    Label,
)
from streamflow.events.metrics import WindowMetrics, WindowMetricsKey
from streamflow.events.model_releases import ModelRelease, ModelReleaseKey, ModelSlot
from streamflow.events.rules import (
    BlacklistRule,
    HighValueRule,
    ImpossibleTravelRule,
    MerchantRiskConfig,
    MlConfig,
    RuleSet,
    RuleSetKey,
    TimeOfDayRule,
    VelocityRule,
)
from streamflow.events.scored import RuleContribution, ScoredTransaction, ScoredTransactionKey
from streamflow.events.topics import TOPICS, Topic, TopicSpec
from streamflow.events.transactions import Channel, PaymentMethod, Transaction, TransactionKey

__all__ = [
    "TOPICS",
    "AnalystVerdict",
    "BlacklistRule",
    "Channel",
    "Contract",
    "ContractError",
    "DeadLetter",
    "DeadLetterKey",
    "Feedback",
    "FeedbackKey",
    "FeedbackSource",
    "FieldError",
    "FraudAlert",
    "FraudAlertKey",
    "HighValueRule",
    "ImpossibleTravelRule",
    "Label",
    "MerchantRiskConfig",
    "MlConfig",
    "ModelRelease",
    "ModelReleaseKey",
    "ModelSlot",
    "PayloadEncoding",
    "PaymentMethod",
    "RuleContribution",
    "RuleSet",
    "RuleSetKey",
    "SchemaVersionError",
    "ScoredTransaction",
    "ScoredTransactionKey",
    "Severity",
    "Stage",
    "TimeOfDayRule",
    "Topic",
    "TopicSpec",
    "Transaction",
    "TransactionKey",
    "TriggeredRule",
    "VelocityRule",
    "WindowMetrics",
    "WindowMetricsKey",
    "alert_id_for",
    "decode",
    "decode_key",
    "encode",
    "encode_key",
]
