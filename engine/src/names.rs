//! Deterministic names and tags derived from the migration id (the source identifier), so a
//! re-run after a crash or Ctrl-C finds earlier work instead of creating it twice.

use super::api::Tags;

/// Tag key holding the migration id on every object the migration makes.
pub const TAG_MIGRATION: &str = "rdsenc:migration";
/// Tag key holding the object's role in the migration.
pub(crate) const TAG_ROLE: &str = "rdsenc:role";
/// Tag key marking the provider as the manager.
pub(crate) const TAG_MANAGED_BY: &str = "rdsenc:managed-by";
/// Value of [`TAG_MANAGED_BY`].
pub(crate) const MANAGED_BY: &str = "terraform-provider-rdsenc";

/// RDS DB instance identifiers: 1-63 characters.
pub(crate) const RDS_INSTANCE_ID_MAX: usize = 63;
/// RDS DB snapshot identifiers: 1-255 characters.
pub(crate) const RDS_SNAPSHOT_ID_MAX: usize = 255;
/// DMS replication instance identifiers: 1-63 characters.
pub(crate) const DMS_INSTANCE_ID_MAX: usize = 63;
/// DMS endpoint, task and subnet group identifiers: 1-255 characters.
pub(crate) const DMS_ID_MAX: usize = 255;
/// RDS DB parameter group names: 1-255 characters.
pub(crate) const RDS_PARAMETER_GROUP_MAX: usize = 255;
/// RDS blue/green deployment names: 1-60 characters.
pub(crate) const BLUE_GREEN_NAME_MAX: usize = 60;

/// What an object is for; the value of the [`TAG_ROLE`] tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The unencrypted snapshot of the source.
    SourceSnapshot,
    /// The encrypted copy.
    EncryptedSnapshot,
    /// The restored, encrypted instance.
    Target,
    /// The read replica DMS reads from (`source_from_read_replica`).
    ReadReplica,
    /// The final snapshot taken when the target is deleted.
    FinalSnapshot,
    /// The managed DMS replication subnet group.
    ReplicationSubnetGroup,
    /// The managed DMS replication instance.
    ReplicationInstance,
    /// The DMS source endpoint.
    SourceEndpoint,
    /// The DMS target endpoint.
    TargetEndpoint,
    /// The DMS replication task.
    ReplicationTask,
    /// The reverse (failback) task, target -> source.
    ReverseTask,
    /// The RDS blue/green deployment (`strategy = "blue_green"`).
    BlueGreenDeployment,
    /// The target's own DB parameter group, a copy of the source's.
    TargetParameterGroup,
}

impl Role {
    /// The tag value.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::SourceSnapshot => "source-snapshot",
            Role::EncryptedSnapshot => "encrypted-snapshot",
            Role::Target => "target",
            Role::ReadReplica => "read-replica",
            Role::FinalSnapshot => "final-snapshot",
            Role::ReplicationSubnetGroup => "replication-subnet-group",
            Role::ReplicationInstance => "replication-instance",
            Role::SourceEndpoint => "source-endpoint",
            Role::TargetEndpoint => "target-endpoint",
            Role::ReplicationTask => "replication-task",
            Role::ReverseTask => "reverse-task",
            Role::BlueGreenDeployment => "blue-green-deployment",
            Role::TargetParameterGroup => "target-parameter-group",
        }
    }
}

/// Every name the migration uses, derived once from the source identifier (and the optional
/// user-chosen target identifier).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The migration id: the source identifier, lower-cased as RDS stores it.
    pub migration: String,
    /// `rdsenc-<src>-snapshot`.
    pub source_snapshot: String,
    /// `rdsenc-<src>-encrypted`.
    pub encrypted_snapshot: String,
    /// The target instance: the configured one, or `<src>-encrypted`.
    pub target: String,
    /// `rdsenc-<src>-replica`.
    pub read_replica: String,
    /// `rdsenc-<src>-target-final`: final snapshot when the target is deleted.
    pub target_final_snapshot: String,
    /// `rdsenc-<src>`.
    pub replication_subnet_group: String,
    /// `rdsenc-<src>`.
    pub replication_instance: String,
    /// `rdsenc-<src>-source`.
    pub source_endpoint: String,
    /// `rdsenc-<src>-target`.
    pub target_endpoint: String,
    /// `rdsenc-<src>`.
    pub task: String,
    /// `rdsenc-<src>-reverse` (failback, later).
    pub reverse_task: String,
}

impl Names {
    /// Derives every name. `target` is the configured `target_db_instance_identifier`.
    ///
    /// ```
    /// use rdsenc_engine::Names;
    /// let n = Names::new("orders", None);
    /// assert_eq!(n.encrypted_snapshot, "rdsenc-orders-encrypted");
    /// assert_eq!(n.target, "orders-encrypted");
    /// assert_eq!(n.task, "rdsenc-orders");
    /// ```
    pub fn new(source: &str, target: Option<&str>) -> Self {
        let src = source.to_ascii_lowercase();
        let p = format!("rdsenc-{src}");
        Self {
            source_snapshot: fit(&format!("{p}-snapshot"), RDS_SNAPSHOT_ID_MAX),
            encrypted_snapshot: fit(&format!("{p}-encrypted"), RDS_SNAPSHOT_ID_MAX),
            target: match target {
                Some(t) => t.to_ascii_lowercase(),
                None => fit(&format!("{src}-encrypted"), RDS_INSTANCE_ID_MAX),
            },
            read_replica: fit(&format!("{p}-replica"), RDS_INSTANCE_ID_MAX),
            target_final_snapshot: fit(&format!("{p}-target-final"), RDS_SNAPSHOT_ID_MAX),
            replication_subnet_group: fit(&p, DMS_ID_MAX),
            replication_instance: fit(&p, DMS_INSTANCE_ID_MAX),
            source_endpoint: fit(&format!("{p}-source"), DMS_ID_MAX),
            target_endpoint: fit(&format!("{p}-target"), DMS_ID_MAX),
            task: fit(&p, DMS_ID_MAX),
            reverse_task: fit(&format!("{p}-reverse"), DMS_ID_MAX),
            migration: src,
        }
    }

    /// The tags every object of `role` carries.
    pub fn tags(&self, role: Role) -> Tags {
        Tags::from([
            (TAG_MIGRATION.to_owned(), self.migration.clone()),
            (TAG_ROLE.to_owned(), role.as_str().to_owned()),
            (TAG_MANAGED_BY.to_owned(), MANAGED_BY.to_owned()),
        ])
    }

    /// `rdsenc-<src>`, within RDS's 60-character limit: the blue/green deployment's name.
    ///
    /// ```
    /// use rdsenc_engine::Names;
    /// assert_eq!(Names::new("orders", None).blue_green_deployment_name(), "rdsenc-orders");
    /// ```
    pub fn blue_green_deployment_name(&self) -> String {
        fit(&format!("rdsenc-{}", self.migration), BLUE_GREEN_NAME_MAX)
    }

    /// `rdsenc-<target>`: the target's own DB parameter group, copied from the source's so
    /// that a `read_only` write fence on one never fences the other.
    ///
    /// ```
    /// use rdsenc_engine::Names;
    /// assert_eq!(Names::new("orders", None).target_parameter_group(), "rdsenc-orders-encrypted");
    /// ```
    pub fn target_parameter_group(&self) -> String {
        fit(&format!("rdsenc-{}", self.target), RDS_PARAMETER_GROUP_MAX)
    }

    /// True when `tags` mark the object as this migration's.
    pub fn owns(&self, tags: &Tags) -> bool {
        tags.get(TAG_MIGRATION)
            .is_some_and(|m| m.eq_ignore_ascii_case(&self.migration))
    }
}

/// Checks an RDS DB instance identifier: 1-63 letters, digits or hyphens, starting with a
/// letter, without `--` or a trailing `-`. Returns what is wrong.
pub(crate) fn check_rds_instance_id(id: &str) -> Result<(), String> {
    check_id(id, RDS_INSTANCE_ID_MAX)
}

fn check_id(id: &str, max: usize) -> Result<(), String> {
    if id.is_empty() || id.len() > max {
        return Err(format!("must be 1 to {max} characters, got {}", id.len()));
    }
    if !id.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Err("must start with a letter".into());
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err("may contain only ASCII letters, digits and hyphens".into());
    }
    if id.contains("--") || id.ends_with('-') {
        return Err("may not contain two consecutive hyphens or end with a hyphen".into());
    }
    Ok(())
}

/// Fits `name` into `max` characters: unchanged when it fits, else a prefix plus `-` and an
/// 8-hex-digit FNV-1a hash of the whole name, so distinct long names stay distinct and the
/// result is the same on every run and every version.
pub(crate) fn fit(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let hash = format!("{:08x}", fnv1a(name.as_bytes()));
    let keep = max.saturating_sub(hash.len() + 1);
    // Names are ASCII (validated identifiers), so byte slicing is on char boundaries.
    let prefix = name.get(..keep).unwrap_or(name).trim_end_matches('-');
    format!("{prefix}-{hash}")
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_short_names_and_hashes_long_ones_deterministically() {
        assert_eq!(fit("short", 63), "short");
        let long = fit(&format!("{}-encrypted", "a".repeat(60)), 63);
        assert_eq!(long.len(), 63);
        assert_eq!(long, fit(&format!("{}-encrypted", "a".repeat(60)), 63));
    }
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_derived_name_is_valid_for_any_valid_source(src in "[a-z]([a-z0-9]|-[a-z0-9]){0,30}") {
            prop_assume!(check_rds_instance_id(&src).is_ok());
            let n = Names::new(&src, None);
            for id in [&n.target, &n.read_replica, &n.replication_instance] {
                prop_assert!(check_rds_instance_id(id).is_ok(), "{}", id);
            }
            for id in [&n.source_snapshot, &n.encrypted_snapshot, &n.target_final_snapshot] {
                prop_assert!(check_id(id, RDS_SNAPSHOT_ID_MAX).is_ok(), "{}", id);
            }
            for id in [&n.source_endpoint, &n.target_endpoint, &n.task, &n.reverse_task] {
                prop_assert!(check_id(id, DMS_ID_MAX).is_ok(), "{}", id);
            }
            prop_assert_ne!(&n.target, &n.migration);
            prop_assert_ne!(&n.source_endpoint, &n.target_endpoint);
        }
    }

    #[test]
    fn names_derive_from_the_source_identifier() {
        let n = Names::new("Orders", None);
        assert_eq!(n.migration, "orders");
        assert_eq!(n.source_snapshot, "rdsenc-orders-snapshot");
        assert_eq!(n.encrypted_snapshot, "rdsenc-orders-encrypted");
        assert_eq!(n.target, "orders-encrypted");
        assert_eq!(n.source_endpoint, "rdsenc-orders-source");
        assert_eq!(n.target_endpoint, "rdsenc-orders-target");
        assert_eq!(n.task, "rdsenc-orders");
        assert_eq!(n.replication_instance, "rdsenc-orders");
        assert_eq!(Names::new("orders", Some("New-DB")).target, "new-db");
    }

    #[test]
    fn long_names_are_truncated_with_a_stable_hash_and_stay_valid() {
        let src = format!("a{}", "b-c".repeat(20)); // 61 chars
        let n = Names::new(&src, None);
        for id in [&n.target, &n.read_replica, &n.replication_instance] {
            assert!(id.len() <= 63, "{id}");
            assert_eq!(check_rds_instance_id(id), Ok(()), "{id}");
        }
        assert_eq!(n, Names::new(&src, None));
        assert_ne!(
            fit(&format!("{src}-x-encrypted"), 63),
            fit(&format!("{src}-y-encrypted"), 63)
        );
        assert_eq!(fit("short", 63), "short");
    }

    #[test]
    fn identifiers_are_checked_against_rds_rules() {
        assert!(check_rds_instance_id("orders-encrypted").is_ok());
        assert!(check_rds_instance_id("1orders").is_err());
        assert!(check_rds_instance_id("orders--x").is_err());
        assert!(check_rds_instance_id("orders-").is_err());
        assert!(check_rds_instance_id("orders_x").is_err());
        assert!(check_rds_instance_id(&"a".repeat(64)).is_err());
    }

    #[test]
    fn ownership_is_decided_by_the_migration_tag() {
        let n = Names::new("orders", None);
        assert!(n.owns(&n.tags(Role::Target)));
        assert!(!n.owns(&Names::new("other", None).tags(Role::Target)));
        assert!(!n.owns(&Tags::new()));
    }
}
