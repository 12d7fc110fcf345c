#!/usr/bin/env python3
"""`make demo`: rdsenc end to end against the local AWS emulator, narrated step by step.

Starts the emulator, seeds an unencrypted MySQL instance and a KMS key, runs `terraform apply` of
examples/quickstart (which reads the instance through the `rdsenc_db_instance` data source), shows the
outputs, destroys, and stops the emulator. Whatever happens (error, Ctrl-C, SIGTERM), nothing it
started is left running and its scratch directory is removed.
"""

from __future__ import annotations

import json
import shutil
import signal
import sys
import tempfile
import textwrap
from pathlib import Path
from types import FrameType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from rig import emulator as emulator_mod  # noqa: E402
from rig import provider as provider_mod  # noqa: E402
from rig.aws import Aws  # noqa: E402
from rig.discovery import discover  # noqa: E402
from rig.environment import terraform_env  # noqa: E402
from rig.terraform import Terraform, TerraformError  # noqa: E402

QUICKSTART = HERE.parent / "examples" / "quickstart"


def say(text: str) -> None:
    """One narrated step, in plain words."""
    print("\n" + textwrap.fill(text, width=100, initial_indent="==> ", subsequent_indent="    "), flush=True)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so the `finally` blocks below stop the emulator.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    signal.signal(signal.SIGTERM, _terminate)
    scratch = Path(tempfile.mkdtemp(prefix="rdsenc-demo-"))
    running: emulator_mod.Emulator | None = None
    try:
        say("Building the provider (cargo build) and placing it in a private filesystem mirror, "
            "so `terraform init` needs no network.")
        install = provider_mod.install(provider_mod.build(), scratch / "provider")
        terraform = discover()[0]
        print(f"    using {terraform.describe()}")

        say("Starting the local AWS emulator (RDS, KMS, DMS, CloudWatch, Route 53 on 127.0.0.1). "
            "No real AWS account is touched.")
        running = emulator_mod.start(scratch / "emulator.log", time_scale=0.001)
        print(f"    emulator ({running.kind}) at {running.url}")

        aws = Aws(running.url)
        say("Seeding the 'before' picture: a live MySQL 8.0 instance called 'orders', NOT encrypted "
            "at rest, plus a customer-managed KMS key to encrypt it with later.")
        inst = aws.create_mysql_instance("orders")
        key = aws.create_kms_key(alias="rdsenc-demo")
        print(f"    RDS instance {inst['DBInstanceIdentifier']}: engine {inst['Engine']} "
              f"{inst['EngineVersion']}, StorageEncrypted={inst['StorageEncrypted']}")
        print(f"    KMS key {key['Arn']} (alias/rdsenc-demo)")

        workdir = scratch / "quickstart"
        shutil.copytree(QUICKSTART, workdir)
        env = terraform_env(install.cli_config, running.url, workdir, scratch / "aws-home")
        tf = Terraform(terraform, workdir, env)

        say("terraform init: installs rdsenc from the local mirror.")
        tf.init()
        say("terraform apply: the rdsenc_db_instance data source reads 'orders' through the RDS API.")
        print(tf.apply().stdout.strip())

        outputs = tf.outputs()
        say("What rdsenc sees (terraform output -json):")
        print(textwrap.indent(json.dumps(outputs, indent=2, sort_keys=True), "    "))
        encrypted = outputs.get("storage_encrypted")
        say(f"The instance is {'already' if encrypted else 'NOT'} encrypted at rest. Migrating it to "
            "encrypted storage (snapshot, encrypted copy with the KMS key, restore, DMS sync, cut-over) "
            "is the job of the rdsenc_migration resource.")

        say("terraform destroy: removes everything this configuration manages (a data source only "
            "reads, so the database itself is left alone).")
        tf.destroy()
        say("Demo finished. Stopping the emulator and removing the scratch directory.")
        return 0
    except TerraformError as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    except (provider_mod.ProviderBuildError, emulator_mod.EmulatorError) as exc:
        print(f"\nDEMO FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: cleaning up", file=sys.stderr)
        return 130
    finally:
        if running is not None:
            running.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
