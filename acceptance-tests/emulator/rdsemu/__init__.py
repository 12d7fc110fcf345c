"""rdsenc's AWS emulator: moto plus the behaviour the provider's tests need.

``install()`` applies the service patches; ``control.EmulatorApp`` wraps moto's WSGI
dispatcher with the control API, CloudWatch CBOR, faults and the call log.
"""

from __future__ import annotations

_installed = False


def install() -> None:
    """Apply every moto patch once."""
    global _installed
    if _installed:
        return
    from . import blue_green, cloudwatch_patch, dms_patch, kms_patch, option_groups, rds_patch, route53_patch

    rds_patch.apply()
    blue_green.apply()  # after rds_patch: green instances go through its create_db_instance
    dms_patch.apply()
    cloudwatch_patch.apply()
    kms_patch.apply()
    option_groups.apply()
    route53_patch.apply()
    _installed = True
