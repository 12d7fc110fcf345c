"""Bad input is refused at `terraform plan` (or earlier, by Terraform's own schema checks) with a
diagnostic naming the attribute, before anything is created in AWS; values unknown at plan time
are never refused. Every configuration carries a password, which no diagnostic may echo.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from rig import Terraform
from rig.aws import Aws
from rig.case import with_required_providers
from rig.configs import q
from rig.emulator import Emulator
from rig.seeds import seed_source

PASSWORD = "Bad-Input-Pa55word-7f3a"
ACCOUNT = "123456789012"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/dms-secrets"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:orders-dms-AbCdEf"
REP = f"arn:aws:dms:us-east-1:{ACCOUNT}:rep:ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Operations that would create, change or delete something; a refused plan must make none.
MUTATING = re.compile(r"^(Create|Copy|Restore|Modify|Delete|Start|Stop|Add|Remove|Put|Rename|Reboot|Promote)")


@dataclass
class Case:
    """One bad configuration: overrides of a valid base, and the attribute the error must name."""

    id: str
    attribute: str
    top: dict[str, str | None] = field(default_factory=dict)
    dms: dict[str, str | None] = field(default_factory=dict)
    blocks: str = ""
    provider: str = ""
    # Matched against the flattened error text besides the attribute name (summary or detail).
    message: str = ""


def hcl(top: dict[str, str | None], dms: dict[str, str | None], blocks: str, provider: str) -> str:
    base_top: dict[str, str | None] = {
        "source_db_instance_identifier": '"orders"',
        "kms_key_id": '"alias/orders-at-rest"',
    }
    base_dms: dict[str, str | None] = {"source_username": '"dms"', "source_password_wo": "var.dms_password"}
    t = {**base_top, **top}
    d = {**base_dms, **dms}
    top_lines = "\n".join(f"  {k} = {v}" for k, v in t.items() if v is not None)
    dms_lines = "\n".join(f"    {k} = {v}" for k, v in d.items() if v is not None)
    dms_block = "" if "NO_DMS" in blocks else f"  dms {{\n{dms_lines}\n  }}\n"
    return f"""
provider "rdsenc" {{
{provider}
}}

variable "dms_password" {{
  type      = string
  sensitive = true
  default   = "{PASSWORD}"
}}

resource "terraform_data" "later" {{
  input = "known-only-after-apply"
}}

resource "rdsenc_migration" "m" {{
{top_lines}
{dms_block}{blocks.replace("NO_DMS", "")}
}}
"""


CASES: list[Case] = [
    # -- identifiers ---------------------------------------------------------------------------
    Case(
        "source-id-underscore", "source_db_instance_identifier", top={"source_db_instance_identifier": q("orders_db")}
    ),
    Case(
        "source-id-starts-with-digit",
        "source_db_instance_identifier",
        top={"source_db_instance_identifier": q("1orders")},
    ),
    Case("source-id-too-long", "source_db_instance_identifier", top={"source_db_instance_identifier": q("o" * 64)}),
    Case(
        "source-id-double-hyphen",
        "source_db_instance_identifier",
        top={"source_db_instance_identifier": q("orders--db")},
    ),
    Case(
        "source-id-trailing-hyphen",
        "source_db_instance_identifier",
        top={"source_db_instance_identifier": q("orders-")},
    ),
    Case("source-id-empty", "source_db_instance_identifier", top={"source_db_instance_identifier": q("")}),
    Case("source-id-missing", "source_db_instance_identifier", top={"source_db_instance_identifier": None}),
    Case("target-id-dot", "target_db_instance_identifier", top={"target_db_instance_identifier": q("orders.enc")}),
    Case(
        "target-id-equals-source",
        "target_db_instance_identifier",
        top={"target_db_instance_identifier": q("orders")},
        message="Target Identifier Equals Source",
    ),
    Case(
        "target-id-equals-source-other-case",
        "target_db_instance_identifier",
        top={"target_db_instance_identifier": q("Orders")},
    ),
    # -- KMS key ---------------------------------------------------------------------------------
    Case("kms-alias-without-prefix", "kms_key_id", top={"kms_key_id": q("orders-at-rest")}, message="alias/"),
    Case("kms-aws-managed-key", "kms_key_id", top={"kms_key_id": q("alias/aws/rds")}),
    Case(
        "kms-arn-of-another-service",
        "kms_key_id",
        top={"kms_key_id": q(f"arn:aws:rds:us-east-1:{ACCOUNT}:key/{KEY_ID}")},
    ),
    Case(
        "kms-arn-unknown-partition",
        "kms_key_id",
        top={"kms_key_id": q(f"arn:awz:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}")},
    ),
    Case(
        "kms-arn-other-region",
        "kms_key_id",
        top={"kms_key_id": q(f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}")},
        message="eu-west-1",
    ),
    Case(
        "kms-arn-other-partition",
        "kms_key_id",
        top={"kms_key_id": q(f"arn:aws-cn:kms:us-east-1:{ACCOUNT}:key/{KEY_ID}")},
        message="aws-cn",
    ),
    Case("kms-arn-short-account", "kms_key_id", top={"kms_key_id": q(f"arn:aws:kms:us-east-1:12345:key/{KEY_ID}")}),
    Case("kms-key-id-malformed", "kms_key_id", top={"kms_key_id": q("1234abcd-12ab-34cd-56ef")}),
    Case("kms-empty", "kms_key_id", top={"kms_key_id": q("")}),
    # -- tags --------------------------------------------------------------------------------------
    Case("tag-key-rdsenc-reserved", "tags", top={"tags": '{ "rdsenc:migration" = "x" }'}, message="Reserved Tag Key"),
    Case("tag-key-aws-reserved", "tags", top={"tags": '{ "aws:createdBy" = "x" }'}, message="Reserved Tag Key"),
    Case(
        "target-tag-key-reserved",
        "tags",
        blocks='  target {\n    tags = { "rdsenc:role" = "x" }\n  }\n',
        message="Reserved Tag Key",
    ),
    # -- timeouts ----------------------------------------------------------------------------------
    Case("timeout-create-not-a-duration", "create", blocks='  timeouts {\n    create = "forever"\n  }\n'),
    Case("timeout-delete-without-unit", "delete", blocks='  timeouts {\n    delete = "10"\n  }\n'),
    Case("timeout-update-negative", "update", blocks='  timeouts {\n    update = "-5m"\n  }\n'),
    # -- credentials ------------------------------------------------------------------------------
    Case("credentials-missing", "source_password_wo", dms={"source_password_wo": None}, message="Missing Credentials"),
    Case(
        "credentials-password-and-secret",
        "secrets_manager_arn",
        dms={"secrets_manager_arn": q(SECRET), "secrets_manager_access_role_arn": q(ROLE)},
        message="Conflicting Credentials",
    ),
    Case(
        "secret-without-access-role",
        "secrets_manager_access_role_arn",
        dms={"source_password_wo": None, "secrets_manager_arn": q(SECRET)},
    ),
    Case(
        "secret-arn-of-another-service",
        "secrets_manager_arn",
        dms={
            "source_password_wo": None,
            "secrets_manager_arn": q(f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/x"),
            "secrets_manager_access_role_arn": q(ROLE),
        },
    ),
    Case(
        "secret-arn-other-region",
        "secrets_manager_arn",
        dms={
            "source_password_wo": None,
            "secrets_manager_arn": q(SECRET.replace("us-east-1", "eu-central-1")),
            "secrets_manager_access_role_arn": q(ROLE),
        },
        message="eu-central-1",
    ),
    Case(
        "access-role-arn-is-a-user",
        "secrets_manager_access_role_arn",
        dms={
            "source_password_wo": None,
            "secrets_manager_arn": q(SECRET),
            "secrets_manager_access_role_arn": q(f"arn:aws:iam::{ACCOUNT}:user/dms"),
        },
    ),
    Case(
        "target-password-and-target-secret",
        "target_secrets_manager_arn",
        dms={
            "target_password_wo": "var.dms_password",
            "target_secrets_manager_arn": q(SECRET),
            "secrets_manager_access_role_arn": q(ROLE),
        },
    ),
    Case(
        "password-version-without-password",
        "source_password_wo_version",
        dms={
            "source_password_wo": None,
            "source_password_wo_version": "2",
            "secrets_manager_arn": q(SECRET),
            "secrets_manager_access_role_arn": q(ROLE),
        },
    ),
    Case("source-username-empty", "source_username", dms={"source_username": q("")}),
    # -- DMS settings -----------------------------------------------------------------------------
    Case("migration-type-unknown", "migration_type", dms={"migration_type": q("full-load")}),
    Case("prep-mode-drop-and-create", "target_table_prep_mode", dms={"target_table_prep_mode": q("DROP_AND_CREATE")}),
    Case("prep-mode-lower-case", "target_table_prep_mode", dms={"target_table_prep_mode": q("truncate_before_load")}),
    Case("table-mappings-malformed-json", "table_mappings", dms={"table_mappings": q("{not json")}),
    Case("table-mappings-not-an-object", "table_mappings", dms={"table_mappings": 'jsonencode(["rules"])'}),
    Case("cdc-without-start-position", "cdc_start_position", dms={"migration_type": q("cdc")}),
    Case(
        "start-position-without-cdc",
        "cdc_start_position",
        dms={"cdc_start_position": q("mysql-bin-changelog.000024:373")},
    ),
    Case(
        "replication-instance-arn-of-rds",
        "replication_instance_arn",
        dms={"replication_instance_arn": q(f"arn:aws:rds:us-east-1:{ACCOUNT}:db:orders")},
    ),
    Case(
        "replication-instance-arn-other-region",
        "replication_instance_arn",
        dms={"replication_instance_arn": q(REP.replace("us-east-1", "ap-south-1"))},
        message="ap-south-1",
    ),
    Case(
        "replication-instance-arn-and-class",
        "replication_instance_class",
        dms={"replication_instance_arn": q(REP), "replication_instance_class": q("dms.t3.large")},
    ),
    Case(
        "replication-instance-class-without-dms-prefix",
        "replication_instance_class",
        dms={"replication_instance_class": q("t3.medium")},
    ),
    Case(
        "replication-storage-zero",
        "replication_instance_allocated_storage",
        dms={"replication_instance_allocated_storage": "0"},
    ),
    Case(
        "replication-storage-negative",
        "replication_instance_allocated_storage",
        dms={"replication_instance_allocated_storage": "-50"},
    ),
    Case(
        "replication-storage-too-large",
        "replication_instance_allocated_storage",
        dms={"replication_instance_allocated_storage": "7000"},
    ),
    Case(
        "replica-identifier-without-replica-mode",
        "source_read_replica_identifier",
        dms={"source_read_replica_identifier": q("orders-replica")},
    ),
    Case(
        "replica-identifier-illegal",
        "source_read_replica_identifier",
        dms={"source_from_read_replica": "true", "source_read_replica_identifier": q("orders_replica")},
    ),
    Case("dms-block-missing", "dms", blocks="NO_DMS"),
    # -- target overrides -------------------------------------------------------------------------
    Case("target-port-privileged", "port", blocks="  target {\n    port = 80\n  }\n"),
    Case(
        "target-backup-retention-too-long",
        "backup_retention_period",
        blocks="  target {\n    backup_retention_period = 99\n  }\n",
    ),
    Case(
        "target-monitoring-interval-odd", "monitoring_interval", blocks="  target {\n    monitoring_interval = 7\n  }\n"
    ),
    Case("target-iops-zero", "iops", blocks="  target {\n    iops = 0\n  }\n"),
    Case(
        "target-instance-class-without-db-prefix",
        "instance_class",
        blocks='  target {\n    instance_class = "r6g.large"\n  }\n',
    ),
    Case(
        "target-monitoring-role-not-a-role",
        "monitoring_role_arn",
        blocks=f'  target {{\n    monitoring_role_arn = "arn:aws:iam::{ACCOUNT}:policy/x"\n  }}\n',
    ),
    Case(
        "target-pi-key-without-alias-prefix",
        "performance_insights_kms_key_id",
        blocks='  target {\n    performance_insights_kms_key_id = "pi-key"\n  }\n',
    ),
    Case(
        "target-parameter-group-illegal",
        "parameter_group_name",
        blocks='  target {\n    parameter_group_name = "bad name!"\n  }\n',
    ),
    Case("unknown-argument", "storage_encrypted", top={"storage_encrypted": "true"}),
    # -- strategy ---------------------------------------------------------------------------------
    Case("strategy-unknown-value", "strategy", top={"strategy": q("snapshot")}),
    Case("blue-green-with-dms-block", "dms", top={"strategy": q("blue_green")}, message="Not Used With Blue/Green"),
    Case(
        "blue-green-with-target-identifier",
        "target_db_instance_identifier",
        top={"strategy": q("blue_green"), "target_db_instance_identifier": q("orders-enc")},
        blocks="NO_DMS",
    ),
    Case(
        "blue-green-with-identifier-swap",
        "cutover_strategy",
        top={"strategy": q("blue_green"), "cutover_strategy": q("identifier_swap")},
        blocks="NO_DMS",
    ),
    Case("fence-hold-negative", "fence_hold_seconds", top={"fence_hold_seconds": "-1"}),
    Case("fence-hold-over-a-day", "fence_hold_seconds", top={"fence_hold_seconds": "86401"}, message="86400"),
    Case(
        "blue-green-with-lag-bound",
        "max_cutover_lag_seconds",
        top={"strategy": q("blue_green"), "max_cutover_lag_seconds": "5"},
        blocks="NO_DMS",
    ),
    Case(
        "blue-green-switchover-timeout-too-short",
        "switchover_timeout",
        top={"strategy": q("blue_green"), "switchover_timeout": "10"},
        blocks="NO_DMS",
    ),
    Case(
        "blue-green-replica-key-malformed",
        "replica_kms_key_ids",
        top={"strategy": q("blue_green")},
        blocks='NO_DMS  blue_green {\n    replica_kms_key_ids = { "orders-r1" = "not-a-key" }\n  }\n',
    ),
    Case(
        "blue-green-block-with-dms-strategy",
        "blue_green",
        blocks='  blue_green {\n    target_engine_version = "8.0.40"\n  }\n',
    ),
    Case("switchover-timeout-with-dms-strategy", "switchover_timeout", top={"switchover_timeout": "300"}),
    # -- provider settings ------------------------------------------------------------------------
    Case("provider-region-not-a-region", "region", provider='  region = "mars"'),
    Case("provider-region-upper-case", "region", provider='  region = "US-EAST-1"'),
    Case("provider-endpoint-without-scheme", "rds", provider='  endpoints {\n    rds = "127.0.0.1:4566"\n  }'),
    Case("provider-max-retries-negative", "max_retries", provider="  max_retries = -1"),
    Case("provider-max-retries-too-many", "max_retries", provider="  max_retries = 1000"),
    Case(
        "provider-assume-role-not-a-role",
        "role_arn",
        provider=f'  assume_role {{\n    role_arn = "arn:aws:iam::{ACCOUNT}:user/x"\n  }}',
    ),
]

# Values only known after apply (here from `terraform_data`): plan must accept them and leave the
# checks for apply time.
UNKNOWN_CASES: list[Case] = [
    Case("unknown-kms-key", "kms_key_id", top={"kms_key_id": '"alias/${terraform_data.later.id}"'}),
    Case(
        "unknown-target-identifier",
        "target_db_instance_identifier",
        top={"target_db_instance_identifier": '"orders-${terraform_data.later.id}"'},
    ),
    Case("unknown-password", "source_password_wo", dms={"source_password_wo": "terraform_data.later.id"}),
    Case("unknown-table-mappings", "table_mappings", dms={"table_mappings": "terraform_data.later.output"}),
    Case("unknown-tags", "tags", top={"tags": "{ team = terraform_data.later.id }"}),
]

_INITIALISED: dict[str, Path] = {}


def prepared(tf: Terraform, config: str) -> Terraform:
    """Write `config`; reuse one `terraform init` per Terraform version (the provider and lock file
    are the same for every case), which keeps the table fast.
    """
    tf.write(with_required_providers(config))
    done = _INITIALISED.get(tf.version)
    if done is None or not (done / ".terraform").exists():
        tf.init()
        _INITIALISED[tf.version] = tf.workdir
    else:
        (tf.workdir / ".terraform").symlink_to(done / ".terraform", target_is_directory=True)
        shutil.copy(done / ".terraform.lock.hcl", tf.workdir / ".terraform.lock.hcl")
    return tf


def error_text(stderr: str) -> str:
    """Terraform's error blocks with box edges removed and whitespace flattened."""
    return " ".join(re.sub(r"[│╷╵]", " ", stderr).split())


def assert_nothing_created(emulator: Emulator) -> None:
    inv: dict[str, Any] = emulator.client.inventory()
    assert inv["db_instances"]["ids"] == ["orders"], inv["db_instances"]
    for kind in ("db_snapshots", "replication_instances", "endpoints", "replication_tasks"):
        assert inv[kind]["count"] == 0, f"{kind} created by a refused plan: {inv[kind]}"
    writes = [c for c in emulator.client.calls() if MUTATING.match(c["operation"])]
    assert writes == [], f"a refused plan called AWS to change something: {writes}"


@pytest.fixture
def seeded(aws: Aws, emulator: Emulator) -> Emulator:
    # The create tests' seed: a source that passes preflight, and the key `alias/orders-at-rest`.
    seed_source(aws, "mysql", "orders")
    emulator.client.clear_calls()
    return emulator


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_refused_at_plan_naming_the_attribute_and_nothing_is_created(
    tf: Terraform, seeded: Emulator, case: Case
) -> None:
    prepared(tf, hcl(case.top, case.dms, case.blocks, case.provider))
    result = tf.plan(check=False)
    assert result.returncode == 1, f"plan should fail for {case.id}\n{result.describe()}"
    text = error_text(result.stderr)
    assert "Error:" in text, result.describe()
    assert case.attribute in text, f"the error does not name {case.attribute!r}\n{result.describe()}"
    if case.message:
        assert case.message in text, f"the error does not say {case.message!r}\n{result.describe()}"
    assert PASSWORD not in result.stderr and PASSWORD not in result.stdout, "a diagnostic echoed the password"
    assert_nothing_created(seeded)


@pytest.mark.parametrize("case", UNKNOWN_CASES, ids=[c.id for c in UNKNOWN_CASES])
def test_a_value_unknown_at_plan_time_is_not_refused(tf: Terraform, seeded: Emulator, case: Case) -> None:
    prepared(tf, hcl(case.top, case.dms, case.blocks, case.provider))
    result = tf.plan()
    assert result.returncode == 2, f"plan should propose changes for {case.id}\n{result.describe()}"
    assert "rdsenc_migration.m will be created" in result.stdout, result.describe()
    assert PASSWORD not in result.stdout + result.stderr
    assert_nothing_created(seeded)


def test_the_table_has_at_least_forty_distinct_cases() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 40, len(ids)
