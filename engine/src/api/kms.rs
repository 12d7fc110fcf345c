//! KMS domain types.

use super::*;

// ---------------------------------------------------------------------------------------------
// KMS
// ---------------------------------------------------------------------------------------------

aws_enum! {
    /// `KeyMetadata.KeyState`.
    KmsKeyState {
        /// `Enabled`: usable.
        Enabled => "Enabled",
        /// `Disabled`.
        Disabled => "Disabled",
        /// `PendingDeletion`.
        PendingDeletion => "PendingDeletion",
        /// `PendingReplicaDeletion`.
        PendingReplicaDeletion => "PendingReplicaDeletion",
        /// `PendingImport`: no key material yet.
        PendingImport => "PendingImport",
        /// `Unavailable`.
        Unavailable => "Unavailable",
        /// `Creating`.
        Creating => "Creating",
        /// `Updating`.
        Updating => "Updating",
    }
}

aws_enum! {
    /// `KeyMetadata.KeyUsage`.
    KmsKeyUsage {
        /// `ENCRYPT_DECRYPT`: the only usage RDS accepts.
        EncryptDecrypt => "ENCRYPT_DECRYPT",
        /// `SIGN_VERIFY`.
        SignVerify => "SIGN_VERIFY",
        /// `GENERATE_VERIFY_MAC`.
        GenerateVerifyMac => "GENERATE_VERIFY_MAC",
        /// `KEY_AGREEMENT`.
        KeyAgreement => "KEY_AGREEMENT",
    }
}

aws_enum! {
    /// `KeyMetadata.KeySpec`.
    KmsKeySpec {
        /// `SYMMETRIC_DEFAULT`: the only spec RDS accepts.
        SymmetricDefault => "SYMMETRIC_DEFAULT",
    }
}

aws_enum! {
    /// `KeyMetadata.KeyManager`.
    KmsKeyManager {
        /// `AWS`: an AWS managed key such as `alias/aws/rds`.
        Aws => "AWS",
        /// `CUSTOMER`: a customer managed key.
        Customer => "CUSTOMER",
    }
}

/// A KMS key resolved from a key id, key ARN, alias name or alias ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KmsKey {
    /// `KeyId` (the UUID).
    pub key_id: String,
    /// `Arn`: the key ARN (never an alias ARN).
    pub arn: String,
    /// `KeyState`.
    pub state: KmsKeyState,
    /// `KeyUsage`.
    pub usage: KmsKeyUsage,
    /// `KeySpec`.
    pub spec: KmsKeySpec,
    /// `KeyManager`.
    pub manager: KmsKeyManager,
    /// `MultiRegion`.
    pub multi_region: bool,
}
