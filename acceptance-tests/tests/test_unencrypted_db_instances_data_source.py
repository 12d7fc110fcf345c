"""`data "rdsenc_unencrypted_db_instances"`: the region's unencrypted primaries, sorted and filtered."""

from __future__ import annotations

from rig import Step, Terraform, attr, output, run_case
from rig.aws import Aws

DS = "data.rdsenc_unencrypted_db_instances.x"


def config(args: str = "") -> str:
    return f"""provider "rdsenc" {{}}

data "rdsenc_unencrypted_db_instances" "x" {{
{args}
}}

output "ids" {{
  value = {DS}.db_instance_identifiers
}}

output "engines" {{
  value = [for d in {DS}.db_instances : d.engine]
}}
"""


def seed(aws: Aws) -> dict[str, str]:
    """Three MySQL-family instances (one encrypted) and one PostgreSQL; returns ARNs by id."""
    key = aws.create_kms_key(alias="already")
    arns = {}
    # Created out of order, so sorting is the data source's doing.
    arns["zeta"] = aws.create_mysql_instance("zeta", Tags=[{"Key": "team", "Value": "payments"}])["DBInstanceArn"]
    aws.create_mysql_instance("encrypted", StorageEncrypted=True, KmsKeyId=key["Arn"])
    arns["alpha"] = aws.create_mysql_instance(
        "alpha", Tags=[{"Key": "team", "Value": "payments"}, {"Key": "env", "Value": "prod"}]
    )["DBInstanceArn"]
    arns["pg"] = aws.create_mysql_instance(
        "pg", Engine="postgres", EngineVersion="16.6", Port=5432, Tags=[{"Key": "team", "Value": "ledger"}]
    )["DBInstanceArn"]
    return arns


def test_lists_unencrypted_instances_sorted_with_their_details(tf: Terraform, aws: Aws) -> None:
    arns = seed(aws)
    run_case(
        tf,
        [
            Step(
                config=config(),
                checks=[
                    output("ids", ["alpha", "pg", "zeta"]),
                    output("engines", ["mysql", "postgres", "mysql"]),
                    attr(DS, "id", "us-east-1"),
                    attr(DS, "db_instances.0.identifier", "alpha"),
                    attr(DS, "db_instances.0.arn", arns["alpha"]),
                    attr(DS, "db_instances.0.engine_version", "8.0.35"),
                    attr(DS, "db_instances.0.allocated_storage", 20),
                    attr(DS, "db_instances.0.tags", {"team": "payments", "env": "prod"}),
                ],
            )
        ],
    )


def test_three_instances_one_encrypted_give_two_identifiers(tf: Terraform, aws: Aws) -> None:
    key = aws.create_kms_key(alias="k")
    aws.create_mysql_instance("c-orders")
    aws.create_mysql_instance("a-orders", StorageEncrypted=True, KmsKeyId=key["Arn"])
    aws.create_mysql_instance("b-orders")
    run_case(tf, [Step(config=config(), checks=[output("ids", ["b-orders", "c-orders"])])])


def test_engine_and_tag_filters_narrow_the_list(tf: Terraform, aws: Aws) -> None:
    seed(aws)
    run_case(
        tf,
        [
            Step(config=config('  engines = ["postgres"]'), checks=[output("ids", ["pg"])]),
            Step(config=config('  tags = { team = "payments" }'), checks=[output("ids", ["alpha", "zeta"])]),
            Step(
                config=config('  tags = { team = "payments", env = "prod" }\n  engines = ["mysql"]'),
                checks=[output("ids", ["alpha"])],
            ),
            Step(config=config('  engines = ["mariadb"]'), checks=[output("ids", []), attr(DS, "db_instances", [])]),
        ],
    )


def test_read_replicas_are_left_to_their_primary(tf: Terraform, aws: Aws) -> None:
    aws.create_mysql_instance("primary")
    aws.rds.create_db_instance_read_replica(
        DBInstanceIdentifier="primary-replica", SourceDBInstanceIdentifier="primary"
    )
    aws.wait_db_instance_available("primary-replica")
    run_case(tf, [Step(config=config(), checks=[output("ids", ["primary"])])])


def test_every_page_of_describe_db_instances_is_read(tf: Terraform, aws: Aws) -> None:
    ids = [f"db-{n:03d}" for n in range(105)]
    for identifier in ids:
        # No wait: the data source lists instances in any state.
        aws.rds.create_db_instance(
            DBInstanceIdentifier=identifier,
            Engine="mysql",
            EngineVersion="8.0.35",
            DBInstanceClass="db.t3.micro",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="rig-Secret-Pa55word",
        )
    first_page = aws.rds.describe_db_instances()
    assert len(first_page["DBInstances"]) < len(ids) and first_page.get("Marker"), (
        "the emulator must page DescribeDBInstances for this test to mean anything"
    )
    run_case(tf, [Step(config=config(), checks=[output("ids", ids)])], secrets=["rig-Secret-Pa55word"])
