"""KMS: fill the defaults AWS applies that moto leaves out."""

from __future__ import annotations

from typing import Any


def apply() -> None:
    """AWS answers ``KeyUsage = ENCRYPT_DECRYPT`` for a key created without one; moto 5.2 stores
    ``None``, and clients that check the key's usage (as the provider does before copying a
    snapshot) then see an unusable key.
    """
    from moto.kms.models import Key

    original = Key.__init__

    def init(self: Any, policy: Any, key_usage: Any, *args: Any, **kwargs: Any) -> None:
        original(self, policy, key_usage or "ENCRYPT_DECRYPT", *args, **kwargs)

    Key.__init__ = init  # type: ignore[method-assign]
