"""Terraform configurations the scenarios share: one `rdsenc_migration` renderer and its variants.

Every configuration has the `provider "rdsenc" {}` block and one resource `rdsenc_migration.m`
(the address `M`), attributes aligned as `terraform fmt` would write them: tests match diagnostics
that quote configuration lines (e.g. `kms_key_id                    = "alias/no-such-key"`) and
rewrite values in place (e.g. `.replace('create = "10m"', 'create = "30m"')`).
"""

from __future__ import annotations

from collections.abc import Mapping

# The DMS user's password in every configuration: no state, plan or log may ever hold it.
DMS_PASSWORD = "dms-Secret-Pa55word"
# The address of the migration in every configuration here.
M = "rdsenc_migration.m"
# The Route 53 zone and record the cutover scenarios switch.
ZONE = "internal.example.com"
RECORD = f"orders-db.{ZONE}"
# The blue/green scenarios' source and its read replica.
BG_SOURCE, BG_REPLICA = "orders", "orders-replica"

# A sensitive variable carrying DMS_PASSWORD as its default (`var.dms_password`).
PASSWORD_VARIABLE = f"""
variable "dms_password" {{
  type      = string
  sensitive = true
  default   = "{DMS_PASSWORD}"
}}
"""


def q(value: str) -> str:
    """`value` as an HCL string literal (the scenarios' values need no escaping)."""
    return f'"{value}"'


def hcl_bool(value: bool) -> str:
    """`value` as an HCL boolean."""
    return str(value).lower()


def block(name: str, attributes: Mapping[str, str], extra: str = "") -> str:
    """A nested block at resource level: `attributes` (already HCL values) aligned, then `extra` lines."""
    width = max(len(k) for k in attributes)
    lines = [f"    {k.ljust(width)} = {v}" for k, v in attributes.items()]
    if extra:
        lines.append(f"    {extra}")
    return f"  {name} {{\n" + "\n".join(lines) + "\n  }"


def dms_block(password: str = q(DMS_PASSWORD), extra: str = "", user: str = "dms") -> str:
    """The `dms {}` block: `user` with `password` (an HCL expression), plus `extra` lines."""
    return block("dms", {"source_username": q(user), "source_password_wo": password}, extra)


def timeouts_block(create: str = "10m", update: str | None = None) -> str:
    """The `timeouts {}` block."""
    values = {"create": q(create)} | ({"update": q(update)} if update else {})
    return block("timeouts", values)


def migration(
    source: str,
    key_arn: str,
    settings: Mapping[str, str] | None = None,
    blocks: tuple[str, ...] = (),
    extra: str = "",
    preamble: str = "",
) -> str:
    """The provider block, `preamble` (e.g. variables), and `rdsenc_migration.m` of `source` with
    `key_arn`: `settings` (HCL values), then `blocks`, then the `extra` text.
    """
    attributes = {"source_db_instance_identifier": q(source), "kms_key_id": q(key_arn), **(settings or {})}
    width = max(len(k) for k in attributes)
    body = [f"  {k.ljust(width)} = {v}" for k, v in attributes.items()]
    body += [b for b in blocks if b]
    if extra:
        body.append(f"  {extra}")
    return f'\nprovider "rdsenc" {{}}\n{preamble}\nresource "rdsenc_migration" "m" {{\n' + "\n".join(body) + "\n}\n"


def config(source: str, key_arn: str, extra: str = "", dms_extra: str = "") -> str:
    """A DMS migration of `source` to `key_arn`, the password through a sensitive variable."""
    return migration(
        source,
        key_arn,
        blocks=(dms_block("var.dms_password", dms_extra), timeouts_block()),
        extra=extra,
        preamble=PASSWORD_VARIABLE,
    )


def cutover_config(
    strategy: str,
    key_arn: str,
    zone_id: str | None,
    *,
    cutover: bool,
    finalize: bool = False,
    extra: str = "",
    ttl: int = 30,
    dms: str | None = None,
    timeouts: str | None = None,
) -> str:
    """A DMS migration of `orders` with `cutover_strategy = strategy` (Route 53: `RECORD` in `zone_id`,
    TTL `ttl`) and `retire_source = "stop"`; `dms` and `timeouts` replace the default blocks.
    """
    route53 = (
        block("route53", {"zone_id": q(zone_id or ""), "record_name": q(RECORD), "ttl": str(ttl)})
        if strategy == "route53"
        else ""
    )
    settings = {
        "cutover_strategy": q(strategy),
        "cutover": hcl_bool(cutover),
        "finalize": hcl_bool(finalize),
        "retire_source": q("stop"),
    }
    blocks = (route53, dms or dms_block(), timeouts or timeouts_block(update="10m"))
    return migration("orders", key_arn, settings, blocks, extra=extra)


def identifier_swap_config(key_arn: str, *, cutover: bool) -> str:
    """A DMS migration of `BG_SOURCE` that cuts over by swapping identifiers (the blue/green
    scenarios' comparison).
    """
    # The source's read replica shares its parameter group, which the read_only fence refuses.
    settings = {"cutover_strategy": q("identifier_swap"), "cutover": hcl_bool(cutover), "write_fence": q("none")}
    return migration(BG_SOURCE, key_arn, settings, (dms_block(), timeouts_block(update="10m")))


def blue_green_config(
    key_arn: str, replica_key_arn: str, *, cutover: bool, finalize: bool = False, extra: str = ""
) -> str:
    """A blue/green migration of `BG_SOURCE` and its replica `BG_REPLICA` (encrypted with
    `replica_key_arn`), `retire_source = "keep"`.
    """
    settings = {
        "strategy": q("blue_green"),
        "switchover_timeout": "120",
        "cutover": hcl_bool(cutover),
        "finalize": hcl_bool(finalize),
        "retire_source": q("keep"),
    }
    replica_keys = f"replica_kms_key_ids = {{\n      {q(BG_REPLICA)} = {q(replica_key_arn)}\n    }}"
    blue_green = f"  blue_green {{\n    {replica_keys}\n  }}"
    return migration(BG_SOURCE, key_arn, settings, (blue_green, timeouts_block(update="10m")), extra=extra)
