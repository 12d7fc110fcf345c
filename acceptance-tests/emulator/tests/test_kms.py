"""KMS defaults the provider relies on."""

from __future__ import annotations

from typing import Any


def test_a_key_created_without_usage_reports_encrypt_decrypt_as_aws_does(kms: Any) -> None:
    meta = kms.create_key(Description="no usage given")["KeyMetadata"]
    assert meta["KeyUsage"] == "ENCRYPT_DECRYPT"
    assert kms.describe_key(KeyId=meta["KeyId"])["KeyMetadata"]["KeyUsage"] == "ENCRYPT_DECRYPT"
    signing = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="RSA_2048")["KeyMetadata"]
    assert signing["KeyUsage"] == "SIGN_VERIFY"
