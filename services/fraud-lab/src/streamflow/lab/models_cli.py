"""``make models ARGS="status | publish VERSION --slot shadow|current"``: the job's model slots.

``status`` lists the registry's versions (decision, AP, alerts per 1,000) next to what the running
job holds (the latest release per slot on ``fraud.models``). ``publish`` delivers a registered
version to a slot: ``shadow`` to watch it score live traffic without alerting, ``current`` to
promote it by hand (the registry's champion alias moves with it).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from streamflow.events import ModelSlot
from streamflow.lab.model_delivery import DeliveryError, from_registry, in_force, publish, slots
from streamflow.lab.registry import MlflowRegistry, RegistryError, RegistrySettings
from streamflow.platform.settings import ServiceSettings, load_settings


def _status(registry: MlflowRegistry, settings: RegistrySettings, service: ServiceSettings) -> int:
    held = in_force(slots(service.kafka, service.topics.fraud_models), settings.model_name)
    print(f"# {service.topics.fraud_models}: what a job starting now loads")
    for slot in ModelSlot:
        release = held[slot]
        text = (
            f"{release.version} (registry v{release.registry_version}, published "
            f"{release.published_at.isoformat()})"
            if release
            else "-"
        )
        print(f"{slot.value:8} {text}")
    print(f"# registry {settings.url}, model {settings.model_name}")
    champion = registry.alias_version(settings.model_name, settings.champion_alias)
    for version in sorted(registry.versions(settings.model_name), key=lambda v: int(v.version)):
        tags = version.tags
        mark = " <- champion" if champion and champion.version == version.version else ""
        print(
            f"v{version.version:>3} {tags.get('model_version', '?'):40} "
            f"{tags.get('gate.decision', '?'):9} AP {tags.get('average_precision', '?')} "
            f"alerts/1000 {tags.get('alerts_per_1000', '?')}{mark}"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make models", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("status", "publish"))
    parser.add_argument("version", nargs="?", help="registry version number (publish)")
    parser.add_argument("--slot", choices=[s.value for s in ModelSlot], default="shadow")
    args = parser.parse_args(argv)
    settings = RegistrySettings()
    service = load_settings(ServiceSettings)
    registry = MlflowRegistry(settings.url)
    try:
        if args.command == "status":
            return _status(registry, settings, service)
        if args.version is None:
            parser.error("publish needs a registry VERSION")
        slot = ModelSlot(args.slot)
        version = registry.version(settings.model_name, args.version)
        release = from_registry(registry, settings.model_name, version, slot, "published by hand")
        publish(service.kafka, service.topics.fraud_models, release)
        if slot is ModelSlot.CURRENT:
            registry.set_alias(settings.model_name, settings.champion_alias, version.version)
    except (RegistryError, DeliveryError) as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(f"published {release.version} (registry v{version.version}) to the {slot.value} slot")
    return 0


if __name__ == "__main__":
    sys.exit(main())
