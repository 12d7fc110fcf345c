"""`data "rdsenc_db_instance"`: reads an existing RDS instance from the emulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rig import Step, Terraform, attr, attr_null, output, output_null, run_case
from rig.aws import Aws
from rig.emulator import Emulator

PASSWORD = "rig-Secret-Pa55word"
DS = "data.rdsenc_db_instance.x"
OUTPUTS = [
    "arn",
    "engine",
    "engine_version",
    "instance_class",
    "storage_encrypted",
    "kms_key_id",
    "endpoint_address",
    "endpoint_port",
    "status",
    "allocated_storage",
    "backup_retention_period",
    "multi_az",
    "parameter_group_names",
    "tags",
]


def config(identifier: str, provider_block: str = 'provider "rdsenc" {}') -> str:
    outputs = "\n".join(f'output "{name}" {{\n  value = {DS}.{name}\n}}' for name in OUTPUTS)
    return f"""{provider_block}

data "rdsenc_db_instance" "x" {{
  db_instance_identifier = "{identifier}"
}}

{outputs}
"""


def expected_outputs(instance: dict[str, Any]) -> dict[str, Any]:
    """What the data source must report, taken from what boto3 sees in the emulator."""
    return {
        "arn": instance["DBInstanceArn"],
        "engine": "mysql",
        "engine_version": instance["EngineVersion"],
        "instance_class": "db.t3.micro",
        "storage_encrypted": False,
        "endpoint_address": instance["Endpoint"]["Address"],
        "endpoint_port": 3306,
        "status": "available",
        "allocated_storage": 20,
        "backup_retention_period": 7,
        "multi_az": False,
        "parameter_group_names": [g["DBParameterGroupName"] for g in instance["DBParameterGroups"]],
        "tags": {"team": "payments", "env": "test"},
    }


def checks_for(instance: dict[str, Any]) -> list[Callable[[Terraform], None]]:
    want = expected_outputs(instance)
    return [
        *(output(name, value) for name, value in want.items()),
        output_null("kms_key_id"),
        attr(DS, "db_instance_identifier", "orders"),
        attr(DS, "engine", "mysql"),
        attr(DS, "storage_encrypted", False),
        attr_null(DS, "kms_key_id"),
    ]


def test_reads_an_unencrypted_mysql_instance_with_configuration_from_the_environment(tf: Terraform, aws: Aws) -> None:
    instance = aws.create_mysql_instance("orders")
    assert instance["Endpoint"]["Address"], "the emulator gave the instance no endpoint"
    run_case(tf, [Step(config=config("orders"), checks=checks_for(instance))], secrets=[PASSWORD])


def test_reads_the_instance_through_an_explicit_endpoints_block(
    tf_factory: Callable[..., Terraform], aws: Aws, emulator: Emulator
) -> None:
    instance = aws.create_mysql_instance("orders")
    # No AWS_ENDPOINT_URL in this environment: only the endpoints block can reach the emulator.
    tf = tf_factory("explicit-endpoints", endpoint_env=False)
    assert "AWS_ENDPOINT_URL" not in tf.env
    services = ["rds", "dms", "kms", "cloudwatch", "route53", "secretsmanager", "sts", "ec2"]
    endpoints = "\n".join(f'    {s} = "{emulator.url}"' for s in services)
    provider_block = f"""provider "rdsenc" {{
  region = "us-east-1"
  endpoints {{
{endpoints}
  }}
}}"""
    run_case(tf, [Step(config=config("orders", provider_block), checks=checks_for(instance))], secrets=[PASSWORD])


def test_a_missing_instance_is_an_error_naming_the_identifier(tf: Terraform, aws: Aws) -> None:
    aws.create_mysql_instance("orders")
    run_case(tf, [Step(config=config("no-such-db"), expect_error=r"no-such-db")])


def test_an_encrypted_instance_reports_its_kms_key(tf: Terraform, aws: Aws) -> None:
    key = aws.create_kms_key(alias="orders")
    instance = aws.create_mysql_instance("orders", StorageEncrypted=True, KmsKeyId=key["Arn"])
    assert instance["StorageEncrypted"] is True
    run_case(
        tf,
        [
            Step(
                config=config("orders"),
                checks=[
                    output("storage_encrypted", True),
                    output("kms_key_id", instance["KmsKeyId"]),
                    attr(DS, "kms_key_id", instance["KmsKeyId"]),
                ],
            )
        ],
    )
