"""The rig itself: Terraform discovery, offline install from the mirror, emulator reset, import diffs."""

from __future__ import annotations

import re

import pytest

from rig import Terraform
from rig.aws import Aws
from rig.case import diff_values, flatten
from rig.discovery import discover
from rig.emulator import Emulator
from rig.provider import SOURCE, VERSION, required_providers_block


def test_discovery_reports_each_terraform_with_a_version() -> None:
    installs = discover()
    assert installs, "discover() returned nothing and raised nothing"
    for install in installs:
        assert re.fullmatch(r"\d+\.\d+\.\d+(-\w+)?", install.version), install
        assert install.id == f"tf{install.version}"
    assert len({i.version for i in installs}) == len(installs), "the same version is listed twice"


def test_init_installs_the_provider_from_the_mirror_without_network(tf: Terraform) -> None:
    tf.write(required_providers_block())
    result = tf.init()
    assert "rdsenc/rdsenc" in result.stdout and VERSION in result.stdout, result.stdout
    lock = (tf.workdir / ".terraform.lock.hcl").read_text()
    assert f'provider "{SOURCE}"' in lock
    assert re.search(r'"h1:[A-Za-z0-9+/=]+"', lock), lock
    assert tf.env["TF_CLI_CONFIG_FILE"] != "" and tf.env["CHECKPOINT_DISABLE"] == "1"


def test_terraform_never_sees_real_aws_settings(tf: Terraform, emulator: Emulator) -> None:
    assert tf.env["AWS_ENDPOINT_URL"] == emulator.url
    assert tf.env["AWS_REGION"] == "us-east-1"
    assert "AWS_PROFILE" not in tf.env and "AWS_SESSION_TOKEN" not in tf.env
    assert tf.env["AWS_CONFIG_FILE"].startswith(str(tf.workdir.parent))


def test_reset_between_tests_empties_the_emulator(aws: Aws, emulator: Emulator) -> None:
    aws.create_mysql_instance("leftover")
    assert [i["DBInstanceIdentifier"] for i in aws.rds.describe_db_instances()["DBInstances"]] == ["leftover"]
    emulator.reset()
    assert aws.rds.describe_db_instances()["DBInstances"] == []


def test_seeded_mysql_instance_is_unencrypted_and_available(aws: Aws) -> None:
    inst = aws.create_mysql_instance("orders")
    assert inst["Engine"] == "mysql"
    assert inst["StorageEncrypted"] is False
    assert inst["DBInstanceStatus"] == "available"


def test_import_verify_diff_ignores_listed_paths_and_reports_the_rest() -> None:
    applied = {"id": "m", "tags": {"a": "1"}, "timeouts": {"create": "1h"}, "endpoints": [{"port": 3306}]}
    imported = {"id": "m", "tags": {"a": "2"}, "timeouts": None, "endpoints": [{"port": 3306}]}
    assert flatten(applied)["endpoints.0.port"] == 3306
    diffs = diff_values(applied, imported, ignore=["timeouts"])
    assert diffs == ["  tags.a: applied='1' imported='2'"]
    assert diff_values(applied, imported, ignore=["timeouts", "tags"]) == []


@pytest.mark.parametrize("config", ['output "x" {\n  value = 1\n}\n'])
def test_required_providers_block_is_added_once(config: str) -> None:
    from rig.case import with_required_providers

    once = with_required_providers(config)
    assert once.count("required_providers") == 1
    assert with_required_providers(once) == once
