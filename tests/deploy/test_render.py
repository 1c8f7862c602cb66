"""Both overlays render, contain what the issue asks for, and differ where they should."""

from __future__ import annotations

from collections import Counter

import yaml

from scripts.k8s.paths import REPO_ROOT
from scripts.k8s.render import Manifest
from streamflow.events.topics import TOPICS

PROD_KINDS = {
    "Kafka",
    "KafkaNodePool",
    "KafkaTopic",
    "KafkaUser",
    "FlinkDeployment",
    "Cluster",
    "ScheduledBackup",
    "NetworkPolicy",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "HelmChart",
    "ServiceMonitor",
    "PrometheusRule",
}
CHARTS = {
    "strimzi-kafka-operator",
    "flink-kubernetes-operator",
    "cloudnative-pg",
    "kube-prometheus-stack",
    "airflow",
}


def kinds(objs: list[Manifest]) -> Counter[str]:
    return Counter(str(o["kind"]) for o in objs)


def one(objs: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [o for o in objs if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"{kind} {name}: {len(found)} objects"
    return found[0]


def test_prod_contains_every_required_kind(overlays: dict[str, list[Manifest]]) -> None:
    assert set(kinds(overlays["prod"])) >= PROD_KINDS


def test_topics_match_the_event_contracts(overlays: dict[str, list[Manifest]]) -> None:
    """One KafkaTopic per topic of streamflow.events.topics, same partitions and configs."""
    for objs in overlays.values():
        topics = {o["spec"]["topicName"]: o["spec"] for o in objs if o["kind"] == "KafkaTopic"}
        assert set(topics) == {spec.topic.value for spec in TOPICS.values()}
        for spec in TOPICS.values():
            topic = topics[spec.topic.value]
            assert topic["partitions"] == spec.partitions, spec.topic
            config = {key: str(value) for key, value in topic["config"].items()}
            assert spec.configs().items() <= config.items(), spec.topic


def test_operators_and_airflow_come_from_helm_charts(overlays: dict[str, list[Manifest]]) -> None:
    for objs in overlays.values():
        charts = {o["metadata"]["name"]: o for o in objs if o["kind"] == "HelmChart"}
        assert set(charts) == CHARTS
        flink_values = charts["flink-kubernetes-operator"]["spec"]["valuesContent"]
        assert "webhook:\n  create: false" in flink_values


def test_dev_runs_one_of_everything(overlays: dict[str, list[Manifest]]) -> None:
    dev = overlays["dev"]
    assert all(o["spec"]["replicas"] == 1 for o in dev if o["kind"] == "Deployment")
    assert one(dev, "KafkaNodePool")["spec"]["replicas"] == 1
    assert one(dev, "Cluster")["spec"]["instances"] == 1
    assert [listener["port"] for listener in one(dev, "Kafka")["spec"]["kafka"]["listeners"]] == [
        9092
    ]
    assert "KafkaUser" not in kinds(dev)


def test_prod_is_replicated_authenticated_and_spread(overlays: dict[str, list[Manifest]]) -> None:
    prod = overlays["prod"]
    pool = one(prod, "KafkaNodePool")["spec"]
    assert pool["replicas"] == 3
    assert pool["template"]["pod"]["affinity"]["podAntiAffinity"]
    kafka = one(prod, "Kafka")["spec"]["kafka"]
    assert [(lst["port"], lst["tls"]) for lst in kafka["listeners"]] == [(9093, True)]
    assert kafka["authorization"]["type"] == "simple"
    assert kafka["config"]["min.insync.replicas"] == 2
    cluster = one(prod, "Cluster")["spec"]
    assert cluster["instances"] == 3
    assert cluster["affinity"]["podAntiAffinityType"] == "required"
    assert all(o["spec"]["replicas"] == 3 for o in prod if o["kind"] == "KafkaTopic")
    users = {o["metadata"]["name"] for o in prod if o["kind"] == "KafkaUser"}
    assert {"generator", "fraud-scorer", "ingestor", "alert-api"} <= users
    for dep in (o for o in prod if o["kind"] == "Deployment"):
        assert dep["spec"]["replicas"] >= 2
        assert dep["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
        if (
            dep["spec"]["template"]["metadata"]["labels"].get("streamflow.io/kafka-client")
            != "true"
        ):
            continue  # the model registry (MLflow) speaks no Kafka
        env = {e["name"]: e for e in dep["spec"]["template"]["spec"]["containers"][0]["env"]}
        secret = env["STREAMFLOW_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        assert secret == dep["metadata"]["name"] in users
    settings = one(prod, "ConfigMap", "streamflow-settings")["data"]
    assert settings["STREAMFLOW_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert settings["STREAMFLOW_PROFILE"] == "prod"


def test_scorer_is_a_savepoint_upgraded_pythondriver_job_with_state_on_a_pvc(
    overlays: dict[str, list[Manifest]],
) -> None:
    for objs in overlays.values():
        spec = one(objs, "FlinkDeployment", "fraud-scorer")["spec"]
        assert spec["job"]["entryClass"] == "org.apache.flink.client.python.PythonDriver"
        assert spec["job"]["args"][-2:] == ["-pym", "streamflow.fraud_scorer.fraud_job"]
        assert spec["job"]["upgradeMode"] == "savepoint"
        assert spec["flinkConfiguration"]["state.backend.type"] == "rocksdb"
        volumes = spec["podTemplate"]["spec"]["volumes"]
        claim = next(
            v["persistentVolumeClaim"]["claimName"] for v in volumes if "persistentVolumeClaim" in v
        )
        assert one(objs, "PersistentVolumeClaim", claim)
        assert spec["flinkConfiguration"]["execution.checkpointing.dir"].startswith(
            "file:///flink-state/"
        )
        # the outage chatter of the Kafka clients stays out of the container log (issue #17),
        # as in the local job's log4j-job.properties
        console = spec["logConfiguration"]["log4j-console.properties"]
        local = (
            REPO_ROOT / "services/fraud-scorer/src/streamflow/fraud_scorer/log4j-job.properties"
        ).read_text()
        for logger in ("adminmetadata", "metadata", "networkclient"):
            for line in (f"logger.{logger}.name = ", f"logger.{logger}.level = WARN"):
                name = next(x for x in local.splitlines() if x.startswith(line))
                assert name in console.splitlines(), name


def test_scorer_parallelism_is_one_number_and_one_instance_per_taskmanager(
    overlays: dict[str, list[Manifest]],
) -> None:
    """The job sets its parallelism from STREAMFLOW_SCORER_PARALLELISM (pod env), the
    operator sizes the cluster from job.parallelism: they must agree. In thread mode the instances
    of one TaskManager share its GIL, so more than one slot per TaskManager adds no throughput
    (docs/adr/0049)."""
    for name, objs in overlays.items():
        spec = one(objs, "FlinkDeployment", "fraud-scorer")["spec"]
        conf = spec["flinkConfiguration"]
        env = {
            e["name"]: e.get("value") for e in spec["podTemplate"]["spec"]["containers"][0]["env"]
        }
        parallelism = spec["job"]["parallelism"]
        assert int(env["STREAMFLOW_SCORER_PARALLELISM"]) == parallelism, name
        assert int(conf["parallelism.default"]) == parallelism, name
        if conf["python.execution-mode"] == "thread" and parallelism > 1:
            assert conf["taskmanager.numberOfTaskSlots"] == "1", name
    assert (
        one(overlays["prod"], "FlinkDeployment", "fraud-scorer")["spec"]["job"]["parallelism"] > 1
    )


def test_model_training_publishes_model_releases_as_its_own_user(
    overlays: dict[str, list[Manifest]],
) -> None:
    """Issue 19: the model_training DAG registers in MLflow and publishes to fraud.models."""
    for name, objs in overlays.items():
        settings = one(objs, "ConfigMap", "airflow-training")
        assert settings["metadata"]["namespace"] == "airflow"
        data = settings["data"]
        assert data["STREAMFLOW_TRAIN_PUBLISH"] == "true"
        assert data["STREAMFLOW_MLFLOW_URL"] == "http://mlflow.streamflow.svc:5000"
        assert data["STREAMFLOW_TOPIC_FRAUD_MODELS"] == "fraud.models"
        values = one(objs, "HelmChart", "airflow")["spec"]["valuesContent"]
        assert "name: airflow-training" in values, name
    prod = overlays["prod"]
    user = one(prod, "KafkaUser", "model-training")["spec"]
    acls = [(a["resource"]["type"], a["resource"]["name"]) for a in user["authorization"]["acls"]]
    assert acls == [("topic", "fraud.models")]  # least privilege: nothing else
    assert user["authorization"]["acls"][0]["operations"] == ["Write", "Describe"]
    password = user["authentication"]["password"]["valueFrom"]["secretKeyRef"]
    data = one(prod, "ConfigMap", "airflow-training")["data"]
    assert data["STREAMFLOW_KAFKA_SASL_USERNAME"] == "model-training"
    assert data["STREAMFLOW_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data["STREAMFLOW_KAFKA_BOOTSTRAP_SERVERS"].endswith(":9093")
    # one password, two namespaces: Strimzi's (streamflow) and the DAG's (airflow)
    strimzi = one(prod, "Secret", password["name"])
    airflow = one(prod, "Secret", "airflow-model-training-kafka")
    assert (strimzi["metadata"]["namespace"], airflow["metadata"]["namespace"]) == (
        "streamflow",
        "airflow",
    )
    assert password["key"] in strimzi["data"]
    assert "STREAMFLOW_KAFKA_SASL_PASSWORD" in airflow["data"]
    assert "KafkaUser" not in kinds(overlays["dev"])


def test_mlflow_registry_runs_on_its_own_role_and_volume(
    overlays: dict[str, list[Manifest]],
) -> None:
    for name, objs in overlays.items():
        dep = one(objs, "Deployment", "mlflow")
        pod = dep["spec"]["template"]["spec"]
        [container] = pod["containers"]
        assert container["image"] == "streamflow/mlflow:0.1.0"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health"
        env = {e["name"]: e for e in container["env"]}
        assert env["STREAMFLOW_MLFLOW_PG_USER"]["value"] == "streamflow_mlflow"
        secret = env["STREAMFLOW_MLFLOW_PG_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"]
        cluster = one(objs, "Cluster")["spec"]
        roles = {r["name"]: r for r in cluster["managed"]["roles"]}
        assert roles["streamflow_mlflow"]["passwordSecret"]["name"] == secret
        assert (
            "CREATE DATABASE mlflow OWNER streamflow_mlflow"
            in (cluster["bootstrap"]["initdb"]["postInitSQL"])
        )
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["artifacts"]["persistentVolumeClaim"]["claimName"] == "mlflow-artifacts"
        assert one(objs, "Service", "mlflow")["spec"]["ports"][0]["port"] == 5000
        policy = one(objs, "NetworkPolicy", "allow-mlflow")["spec"]
        [ingress] = policy["ingress"]
        assert ingress["from"] == [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "airflow"}}}
        ]
        assert ingress["ports"] == [{"protocol": "TCP", "port": 5000}]
        [egress] = policy["egress"]
        assert egress["ports"] == [{"protocol": "TCP", "port": 5432}], name
    prod = overlays["prod"]
    pvc = one(prod, "PersistentVolumeClaim", "mlflow-artifacts")["spec"]
    assert pvc["accessModes"] == ["ReadWriteMany"]
    pod = one(prod, "Deployment", "mlflow")["spec"]["template"]["spec"]
    assert {v["name"]: v for v in pod["volumes"]}["pg-ca"]["secret"]["secretName"] == (
        "streamflow-pg-ca"
    )
    assert one(overlays["dev"], "Deployment", "mlflow")["spec"]["replicas"] == 1


def test_airflow_trusts_the_kafka_ca_that_apply_copies(overlays: dict[str, list[Manifest]]) -> None:
    """prod: the DAG's STREAMFLOW_KAFKA_SSL_CA_LOCATION is a file of the chart's CA volume, whose
    Secret scripts/k8s/apply.sh copies from Strimzi's cluster CA into `airflow`."""
    values = yaml.safe_load(one(overlays["prod"], "HelmChart", "airflow")["spec"]["valuesContent"])
    location = one(overlays["prod"], "ConfigMap", "airflow-training")["data"][
        "STREAMFLOW_KAFKA_SSL_CA_LOCATION"
    ]
    [volume] = [v for v in values["volumes"] if v["name"] == "kafka-ca"]
    [mount] = [m for m in values["volumeMounts"] if m["name"] == "kafka-ca"]
    files = {f"{mount['mountPath']}/{item['path']}" for item in volume["secret"]["items"]}
    assert location in files
    apply = (REPO_ROOT / "scripts" / "k8s" / "apply.sh").read_text()
    assert f"-n airflow create secret generic {volume['secret']['secretName']}" in apply
    assert "streamflow-cluster-ca-cert" in apply
