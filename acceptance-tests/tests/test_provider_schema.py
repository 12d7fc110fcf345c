"""`terraform providers schema -json`: the provider, its configuration and its documented attributes."""

from __future__ import annotations

from typing import Any

from rig import Terraform
from rig.case import with_required_providers
from rig.provider import SOURCE

PROVIDER_ATTRIBUTES = {
    "region",
    "profile",
    "shared_config_files",
    "shared_credentials_files",
    "max_retries",
    "skip_credentials_validation",
}
ENDPOINT_SERVICES = {"rds", "dms", "kms", "cloudwatch", "route53", "secretsmanager", "sts", "ec2"}


def _schema(tf: Terraform) -> dict[str, Any]:
    tf.write(with_required_providers('provider "rdsenc" {}\n'))
    tf.init()
    schemas = tf.providers_schema()["provider_schemas"]
    assert SOURCE in schemas, f"{SOURCE} missing from providers schema; found {sorted(schemas)}"
    return schemas[SOURCE]


def _undocumented(block: dict[str, Any], where: str) -> list[str]:
    """Every attribute or nested block under `block` that has no non-empty description."""
    missing = [
        f"{where}.{name}"
        for name, attribute in block.get("attributes", {}).items()
        if not str(attribute.get("description", "")).strip()
    ]
    for name, nested in block.get("block_types", {}).items():
        if not str(nested.get("block", {}).get("description", "")).strip():
            missing.append(f"{where}.{name} (block)")
        missing += _undocumented(nested.get("block", {}), f"{where}.{name}")
    return missing


def test_provider_schema_lists_rdsenc_with_its_configuration_attributes(tf: Terraform) -> None:
    block = _schema(tf)["provider"]["block"]
    attributes = set(block.get("attributes", {}))
    assert PROVIDER_ATTRIBUTES <= attributes, f"missing provider attributes: {PROVIDER_ATTRIBUTES - attributes}"
    assert block["attributes"]["region"]["type"] == "string"
    assert block["attributes"]["max_retries"]["type"] == "number"
    assert block["attributes"]["skip_credentials_validation"]["type"] == "bool"
    assert block["attributes"]["shared_config_files"]["type"] == ["list", "string"]
    # Every provider setting is optional: configuration from the environment alone must work.
    required = [name for name, a in block["attributes"].items() if a.get("required")]
    assert required == [], f"provider attributes must be optional, required: {required}"


def test_provider_schema_has_assume_role_and_an_endpoint_per_service(tf: Terraform) -> None:
    blocks = _schema(tf)["provider"]["block"].get("block_types", {})
    assert "assume_role" in blocks, f"no assume_role block; blocks: {sorted(blocks)}"
    assert "role_arn" in blocks["assume_role"]["block"].get("attributes", {})
    assert "endpoints" in blocks, f"no endpoints block; blocks: {sorted(blocks)}"
    endpoints = blocks["endpoints"]["block"].get("attributes", {})
    assert ENDPOINT_SERVICES <= set(endpoints), f"missing endpoints: {ENDPOINT_SERVICES - set(endpoints)}"
    assert all(endpoints[s]["type"] == "string" and endpoints[s].get("optional") for s in ENDPOINT_SERVICES)


def test_db_instance_data_source_is_listed_with_a_description_on_every_attribute(tf: Terraform) -> None:
    schema = _schema(tf)
    data_sources = schema.get("data_source_schemas", {})
    assert "rdsenc_db_instance" in data_sources, f"data sources: {sorted(data_sources)}"
    block = data_sources["rdsenc_db_instance"]["block"]
    identifier = block["attributes"]["db_instance_identifier"]
    assert identifier.get("required") is True, identifier
    missing = _undocumented(block, "rdsenc_db_instance")
    assert missing == [], f"attributes without a description: {missing}"
    assert str(block.get("description", "")).strip(), "the data source itself has no description"


def test_every_provider_and_resource_attribute_has_a_description(tf: Terraform) -> None:
    schema = _schema(tf)
    missing = _undocumented(schema["provider"]["block"], "provider")
    for name, resource in schema.get("resource_schemas", {}).items():
        missing += _undocumented(resource["block"], name)
    assert missing == [], f"attributes without a description: {missing}"
