//! [`AwsApi`] over the real SDK clients: domain inputs -> SDK requests, SDK outputs -> domain
//! types, every failure through [`AwsError`]. Finders come from the service modules, so the
//! not-found normalisation lives in one place.
//!
//! Secrets: endpoint passwords are only exposed into the SDK request builder; nothing here
//! logs requests or responses.

use std::time::SystemTime;

use async_trait::async_trait;
use aws_sdk_databasemigration::types as dms_t;
use aws_sdk_rds::types as rds_t;
use aws_smithy_types::DateTime;

use super::config::Clients;
use super::error::Classify;
use super::{cloudwatch, dms, kms, rds, route53};
use rdsenc_engine::api::AwsError;
use rdsenc_engine::api::{
    AwsApi, BlueGreenDeployment, BlueGreenRef, BlueGreenStatus, CdcLatency, CdcLatencyQuery,
    ChangeStatus, CnameRecord, Connection, ConnectionStatus, CopyDbParameterGroupInput,
    CopyDbSnapshotInput, CreateBlueGreenDeploymentInput, CreateDbSnapshotInput,
    CreateEndpointInput, CreateReadReplicaInput, CreateReplicationInstanceInput,
    CreateReplicationSubnetGroupInput, CreateReplicationTaskInput, DbEngine, DbInstance,
    DbInstanceStatus, DbSnapshot, DbSubnetGroupInfo, DeleteDbInstanceInput, DmsRef, Endpoint,
    EndpointCredentials, EndpointEngine, EndpointStatus, EndpointType, FinalSnapshot, HostPort,
    KmsKey, KmsKeyManager, KmsKeySpec, KmsKeyState, KmsKeyUsage, MigrationType,
    ModifyDbInstanceInput, ModifyDbParameterInput, ModifyEndpointInput, ModifyReplicationTaskInput,
    PerformanceInsights, ReplicationInstance, ReplicationInstanceStatus, ReplicationSubnetGroup,
    ReplicationTask, ReplicationTaskStats, ReplicationTaskStatus, RestoreDbInstanceInput,
    SnapshotStatus, SnapshotType, SslMode, StartReplicationTaskInput, SubnetGroupStatus,
    SwitchoverDetail, TableState, TableStatistics, Tags, UpsertCnameInput, ValidationState,
};

// ---------------------------------------------------------------------------------------------
// conversions: SDK -> domain

fn time(t: Option<&DateTime>) -> Option<SystemTime> {
    t.and_then(|t| SystemTime::try_from(*t).ok())
}

fn port(p: Option<i32>) -> Option<u16> {
    p.and_then(|p| u16::try_from(p).ok())
}

fn owned(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

fn text(s: Option<&str>) -> String {
    s.unwrap_or_default().to_owned()
}

fn rds_tags(tags: &[rds_t::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn dms_tags(tags: &[dms_t::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_owned(),
                t.value().unwrap_or_default().to_owned(),
            ))
        })
        .collect()
}

fn to_rds_tags(tags: &Tags) -> Option<Vec<rds_t::Tag>> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(k, v)| rds_t::Tag::builder().key(k).value(v).build())
            .collect()
    })
}

fn to_dms_tags(tags: &Tags) -> Option<Vec<dms_t::Tag>> {
    (!tags.is_empty()).then(|| {
        tags.iter()
            .map(|(k, v)| dms_t::Tag::builder().key(k).value(v).build())
            .collect()
    })
}

/// SDK DB instance -> domain.
pub fn db_instance(i: &rds_t::DbInstance) -> DbInstance {
    DbInstance {
        identifier: text(i.db_instance_identifier()),
        arn: text(i.db_instance_arn()),
        status: DbInstanceStatus::from_aws(i.db_instance_status().unwrap_or_default()),
        engine: DbEngine::from_aws(i.engine().unwrap_or_default()),
        engine_version: text(i.engine_version()),
        instance_class: text(i.db_instance_class()),
        allocated_storage: i.allocated_storage().unwrap_or_default(),
        storage_type: owned(i.storage_type()),
        iops: i.iops(),
        storage_throughput: i.storage_throughput(),
        max_allocated_storage: i.max_allocated_storage(),
        storage_encrypted: i.storage_encrypted().unwrap_or_default(),
        kms_key_id: owned(i.kms_key_id()),
        endpoint: i.endpoint().and_then(|e| {
            Some(HostPort {
                address: e.address()?.to_owned(),
                port: port(e.port())?,
            })
        }),
        port: port(i.db_instance_port().filter(|p| *p != 0))
            .or_else(|| port(i.endpoint().and_then(|e| e.port()))),
        db_name: owned(i.db_name()),
        master_username: owned(i.master_username()),
        multi_az: i.multi_az().unwrap_or_default(),
        availability_zone: owned(i.availability_zone()),
        publicly_accessible: i.publicly_accessible().unwrap_or_default(),
        deletion_protection: i.deletion_protection().unwrap_or_default(),
        copy_tags_to_snapshot: i.copy_tags_to_snapshot().unwrap_or_default(),
        auto_minor_version_upgrade: i.auto_minor_version_upgrade().unwrap_or_default(),
        iam_database_authentication_enabled: i
            .iam_database_authentication_enabled()
            .unwrap_or_default(),
        db_parameter_group_name: i
            .db_parameter_groups()
            .first()
            .and_then(|g| owned(g.db_parameter_group_name())),
        parameter_apply_status: i
            .db_parameter_groups()
            .first()
            .and_then(|g| owned(g.parameter_apply_status())),
        option_group_name: i
            .option_group_memberships()
            .first()
            .and_then(|g| owned(g.option_group_name())),
        db_subnet_group: i.db_subnet_group().map(|g| DbSubnetGroupInfo {
            name: text(g.db_subnet_group_name()),
            vpc_id: text(g.vpc_id()),
            subnet_ids: g
                .subnets()
                .iter()
                .filter_map(|s| owned(s.subnet_identifier()))
                .collect(),
        }),
        vpc_security_group_ids: i
            .vpc_security_groups()
            .iter()
            .filter_map(|g| owned(g.vpc_security_group_id()))
            .collect(),
        ca_certificate_identifier: owned(i.ca_certificate_identifier()),
        enabled_cloudwatch_logs_exports: i.enabled_cloudwatch_logs_exports().to_vec(),
        backup_retention_period: i.backup_retention_period().unwrap_or_default(),
        preferred_backup_window: owned(i.preferred_backup_window()),
        preferred_maintenance_window: owned(i.preferred_maintenance_window()),
        monitoring_interval: i.monitoring_interval().unwrap_or_default(),
        monitoring_role_arn: owned(i.monitoring_role_arn()),
        performance_insights: PerformanceInsights {
            enabled: i.performance_insights_enabled().unwrap_or_default(),
            kms_key_id: owned(i.performance_insights_kms_key_id()),
            retention_period_days: i.performance_insights_retention_period(),
        },
        read_replica_source: owned(i.read_replica_source_db_instance_identifier()),
        read_replica_identifiers: i.read_replica_db_instance_identifiers().to_vec(),
        create_time: time(i.instance_create_time()),
        master_user_secret_arn: owned(i.master_user_secret().and_then(|s| s.secret_arn())),
        tags: rds_tags(i.tag_list()),
    }
}

/// SDK blue/green deployment -> domain.
pub fn blue_green_deployment(d: &rds_t::BlueGreenDeployment) -> BlueGreenDeployment {
    BlueGreenDeployment {
        identifier: text(d.blue_green_deployment_identifier()),
        name: text(d.blue_green_deployment_name()),
        source_arn: text(d.source()),
        target_arn: text(d.target()),
        status: BlueGreenStatus::from_aws(d.status().unwrap_or_default()),
        status_details: owned(d.status_details()),
        switchover_details: d
            .switchover_details()
            .iter()
            .map(|s| SwitchoverDetail {
                source_member: text(s.source_member()),
                target_member: text(s.target_member()),
                status: text(s.status()),
            })
            .collect(),
        tags: rds_tags(d.tag_list()),
    }
}

/// SDK DB snapshot -> domain.
pub fn db_snapshot(s: &rds_t::DbSnapshot) -> DbSnapshot {
    DbSnapshot {
        identifier: text(s.db_snapshot_identifier()),
        arn: text(s.db_snapshot_arn()),
        db_instance_identifier: text(s.db_instance_identifier()),
        status: SnapshotStatus::from_aws(s.status().unwrap_or_default()),
        percent_progress: s.percent_progress().unwrap_or_default(),
        snapshot_type: SnapshotType::from_aws(s.snapshot_type().unwrap_or("manual")),
        engine: DbEngine::from_aws(s.engine().unwrap_or_default()),
        engine_version: text(s.engine_version()),
        allocated_storage: s.allocated_storage().unwrap_or_default(),
        encrypted: s.encrypted().unwrap_or_default(),
        kms_key_id: owned(s.kms_key_id()),
        source_db_snapshot_identifier: owned(s.source_db_snapshot_identifier()),
        create_time: time(s.snapshot_create_time()),
        tags: rds_tags(s.tag_list()),
    }
}

/// SDK KMS key metadata -> domain.
pub fn kms_key(k: &aws_sdk_kms::types::KeyMetadata) -> KmsKey {
    KmsKey {
        key_id: k.key_id().to_owned(),
        arn: text(k.arn()),
        state: KmsKeyState::from_aws(k.key_state().map(|s| s.as_str()).unwrap_or_default()),
        usage: KmsKeyUsage::from_aws(k.key_usage().map(|s| s.as_str()).unwrap_or_default()),
        spec: KmsKeySpec::from_aws(k.key_spec().map(|s| s.as_str()).unwrap_or_default()),
        manager: KmsKeyManager::from_aws(k.key_manager().map(|s| s.as_str()).unwrap_or_default()),
        multi_region: k.multi_region().unwrap_or_default(),
    }
}

/// SDK replication subnet group -> domain.
pub fn replication_subnet_group(g: &dms_t::ReplicationSubnetGroup) -> ReplicationSubnetGroup {
    ReplicationSubnetGroup {
        identifier: text(g.replication_subnet_group_identifier()),
        description: text(g.replication_subnet_group_description()),
        vpc_id: text(g.vpc_id()),
        subnet_ids: g
            .subnets()
            .iter()
            .filter_map(|s| owned(s.subnet_identifier()))
            .collect(),
        status: SubnetGroupStatus::from_aws(g.subnet_group_status().unwrap_or_default()),
    }
}

/// SDK replication instance -> domain.
pub fn replication_instance(r: &dms_t::ReplicationInstance) -> ReplicationInstance {
    ReplicationInstance {
        identifier: text(r.replication_instance_identifier()),
        arn: text(r.replication_instance_arn()),
        status: ReplicationInstanceStatus::from_aws(
            r.replication_instance_status().unwrap_or_default(),
        ),
        instance_class: text(r.replication_instance_class()),
        allocated_storage: r.allocated_storage(),
        engine_version: owned(r.engine_version()),
        multi_az: r.multi_az(),
        publicly_accessible: r.publicly_accessible(),
        subnet_group_identifier: r
            .replication_subnet_group()
            .and_then(|g| owned(g.replication_subnet_group_identifier())),
        vpc_security_group_ids: r
            .vpc_security_groups()
            .iter()
            .filter_map(|g| owned(g.vpc_security_group_id()))
            .collect(),
        kms_key_id: owned(r.kms_key_id()),
    }
}

/// SDK endpoint -> domain. Credentials are never read back (DMS does not return passwords).
pub fn endpoint(e: &dms_t::Endpoint) -> Endpoint {
    let mysql = e.my_sql_settings();
    let pg = e.postgre_sql_settings();
    Endpoint {
        identifier: text(e.endpoint_identifier()),
        arn: text(e.endpoint_arn()),
        endpoint_type: EndpointType::from_aws(
            e.endpoint_type()
                .map(|t| t.as_str())
                .unwrap_or_default()
                .to_ascii_lowercase()
                .as_str(),
        ),
        engine: EndpointEngine::from_aws(e.engine_name().unwrap_or_default()),
        status: EndpointStatus::from_aws(e.status().unwrap_or_default()),
        server_name: owned(e.server_name()),
        port: port(e.port()),
        database_name: owned(e.database_name()),
        username: owned(e.username()),
        secrets_manager_arn: mysql
            .and_then(|m| owned(m.secrets_manager_secret_id()))
            .or_else(|| pg.and_then(|p| owned(p.secrets_manager_secret_id()))),
        ssl_mode: SslMode::from_aws(e.ssl_mode().map(|s| s.as_str()).unwrap_or("none")),
        after_connect_script: mysql
            .and_then(|m| owned(m.after_connect_script()))
            .or_else(|| pg.and_then(|p| owned(p.after_connect_script()))),
        extra_connection_attributes: owned(e.extra_connection_attributes())
            .filter(|s| !s.is_empty()),
    }
}

/// SDK connection -> domain.
pub fn connection(c: &dms_t::Connection) -> Connection {
    Connection {
        replication_instance_arn: text(c.replication_instance_arn()),
        endpoint_arn: text(c.endpoint_arn()),
        status: ConnectionStatus::from_aws(c.status().unwrap_or_default()),
        last_failure_message: owned(c.last_failure_message()),
    }
}

/// SDK replication task -> domain.
pub fn replication_task(t: &dms_t::ReplicationTask) -> ReplicationTask {
    ReplicationTask {
        identifier: text(t.replication_task_identifier()),
        arn: text(t.replication_task_arn()),
        status: ReplicationTaskStatus::from_aws(t.status().unwrap_or_default()),
        migration_type: MigrationType::from_aws(
            t.migration_type().map(|m| m.as_str()).unwrap_or_default(),
        ),
        replication_instance_arn: text(t.replication_instance_arn()),
        source_endpoint_arn: text(t.source_endpoint_arn()),
        target_endpoint_arn: text(t.target_endpoint_arn()),
        table_mappings: text(t.table_mappings()),
        task_settings: owned(t.replication_task_settings()),
        cdc_start_position: owned(t.cdc_start_position()),
        recovery_checkpoint: owned(t.recovery_checkpoint()),
        stop_reason: owned(t.stop_reason()),
        last_failure_message: owned(t.last_failure_message()),
        stats: t.replication_task_stats().map(|s| ReplicationTaskStats {
            full_load_progress_percent: s.full_load_progress_percent(),
            tables_loaded: s.tables_loaded(),
            tables_loading: s.tables_loading(),
            tables_queued: s.tables_queued(),
            tables_errored: s.tables_errored(),
            elapsed_time_millis: s.elapsed_time_millis(),
            full_load_finish: time(s.full_load_finish_date()),
        }),
    }
}

/// SDK table statistics -> domain.
pub fn table_statistics(s: &dms_t::TableStatistics) -> TableStatistics {
    TableStatistics {
        schema_name: text(s.schema_name()),
        table_name: text(s.table_name()),
        table_state: TableState::from_aws(s.table_state().unwrap_or_default()),
        full_load_rows: s.full_load_rows(),
        inserts: s.inserts(),
        updates: s.updates(),
        deletes: s.deletes(),
        validation_state: ValidationState::from_aws(s.validation_state().unwrap_or_default()),
        validation_pending_records: s.validation_pending_records(),
        validation_failed_records: s.validation_failed_records(),
        validation_suspended_records: s.validation_suspended_records(),
    }
}

// ---------------------------------------------------------------------------------------------
// helpers: domain -> SDK

fn missing(what: &str, kind: &'static str, id: &str) -> AwsError {
    AwsError::Service {
        code: "IncompleteResponse".to_owned(),
        message: format!("{kind} ({id}): the response carried no {what}"),
        status: None,
    }
}

/// How a create or modify response's object is read: its SDK name and kind (for the error
/// when the response is malformed) and its mapping to the domain.
struct Carried<S, D> {
    what: &'static str,
    kind: &'static str,
    map: fn(&S) -> D,
}

impl<S, D> Carried<S, D> {
    /// The object the response carries, mapped; a response without one is malformed.
    fn of(&self, item: Option<&S>, id: &str) -> Result<D, AwsError> {
        item.map(self.map)
            .ok_or_else(|| missing(self.what, self.kind, id))
    }
}

const INSTANCE: Carried<rds_t::DbInstance, DbInstance> = Carried {
    what: "DBInstance",
    kind: rds::KIND_DB_INSTANCE,
    map: db_instance,
};
const SNAPSHOT: Carried<rds_t::DbSnapshot, DbSnapshot> = Carried {
    what: "DBSnapshot",
    kind: rds::KIND_DB_SNAPSHOT,
    map: db_snapshot,
};
const DEPLOYMENT: Carried<rds_t::BlueGreenDeployment, BlueGreenDeployment> = Carried {
    what: "BlueGreenDeployment",
    kind: rds::KIND_BLUE_GREEN_DEPLOYMENT,
    map: blue_green_deployment,
};
const SUBNET_GROUP: Carried<dms_t::ReplicationSubnetGroup, ReplicationSubnetGroup> = Carried {
    what: "ReplicationSubnetGroup",
    kind: dms::KIND_REPLICATION_SUBNET_GROUP,
    map: replication_subnet_group,
};
const REPLICATION_INSTANCE: Carried<dms_t::ReplicationInstance, ReplicationInstance> = Carried {
    what: "ReplicationInstance",
    kind: dms::KIND_REPLICATION_INSTANCE,
    map: replication_instance,
};
const ENDPOINT: Carried<dms_t::Endpoint, Endpoint> = Carried {
    what: "Endpoint",
    kind: dms::KIND_ENDPOINT,
    map: endpoint,
};
const CONNECTION: Carried<dms_t::Connection, Connection> = Carried {
    what: "Connection",
    kind: dms::KIND_CONNECTION,
    map: connection,
};
const TASK: Carried<dms_t::ReplicationTask, ReplicationTask> = Carried {
    what: "ReplicationTask",
    kind: dms::KIND_REPLICATION_TASK,
    map: replication_task,
};

fn is_mysql_family(engine: &EndpointEngine) -> bool {
    matches!(engine, EndpointEngine::Mysql | EndpointEngine::Mariadb)
}

/// Engine settings carrying the after-connect script and Secrets Manager reference.
fn engine_settings(
    engine: &EndpointEngine,
    after_connect_script: Option<&str>,
    credentials: Option<&EndpointCredentials>,
) -> (
    Option<dms_t::MySqlSettings>,
    Option<dms_t::PostgreSqlSettings>,
) {
    let (secret, role) = match credentials {
        Some(EndpointCredentials::SecretsManager {
            secret_arn,
            access_role_arn,
        }) => (Some(secret_arn.clone()), Some(access_role_arn.clone())),
        _ => (None, None),
    };
    if after_connect_script.is_none() && secret.is_none() {
        return (None, None);
    }
    if is_mysql_family(engine) {
        let s = dms_t::MySqlSettings::builder()
            .set_after_connect_script(after_connect_script.map(str::to_owned))
            .set_secrets_manager_secret_id(secret)
            .set_secrets_manager_access_role_arn(role)
            .build();
        (Some(s), None)
    } else {
        let s = dms_t::PostgreSqlSettings::builder()
            .set_after_connect_script(after_connect_script.map(str::to_owned))
            .set_secrets_manager_secret_id(secret)
            .set_secrets_manager_access_role_arn(role)
            .build();
        (None, Some(s))
    }
}

/// Which service an ARN belongs to, for the tag calls.
fn arn_service(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.next()?; // partition
    parts.next()
}

fn unsupported_arn(arn: &str) -> AwsError {
    AwsError::Service {
        code: "UnsupportedArn".to_owned(),
        message: format!("tags are only managed on RDS and DMS ARNs, got {arn:?}"),
        status: None,
    }
}

#[async_trait]
impl AwsApi for Clients {
    // --- RDS instances ---

    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        rds::find_db_instance_by_id(self.rds(), identifier)
            .await
            .map(|i| db_instance(&i))
    }

    async fn list_db_instances_by_tag(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<DbInstance>, AwsError> {
        Ok(rds::find_db_instances_by_tag(self.rds(), key, value)
            .await?
            .iter()
            .map(db_instance)
            .collect())
    }

    async fn restore_db_instance_from_snapshot(
        &self,
        input: &RestoreDbInstanceInput,
    ) -> Result<DbInstance, AwsError> {
        let id = &input.db_instance_identifier;
        let request = self
            .rds()
            .restore_db_instance_from_db_snapshot()
            .db_instance_identifier(id)
            .db_snapshot_identifier(&input.db_snapshot_identifier)
            .set_db_instance_class(input.instance_class.clone())
            .set_storage_type(input.storage_type.clone())
            .set_allocated_storage(input.allocated_storage)
            .set_iops(input.iops)
            .set_storage_throughput(input.storage_throughput)
            .set_db_parameter_group_name(input.db_parameter_group_name.clone())
            .set_option_group_name(input.option_group_name.clone())
            .set_db_subnet_group_name(input.db_subnet_group_name.clone())
            .set_vpc_security_group_ids(
                (!input.vpc_security_group_ids.is_empty())
                    .then(|| input.vpc_security_group_ids.clone()),
            )
            .set_port(input.port.map(i32::from))
            .multi_az(input.multi_az)
            // AWS rejects an AZ together with Multi-AZ.
            .set_availability_zone(
                (!input.multi_az)
                    .then(|| input.availability_zone.clone())
                    .flatten(),
            )
            .publicly_accessible(input.publicly_accessible)
            .deletion_protection(input.deletion_protection)
            .copy_tags_to_snapshot(input.copy_tags_to_snapshot)
            .auto_minor_version_upgrade(input.auto_minor_version_upgrade)
            .enable_iam_database_authentication(input.iam_database_authentication_enabled)
            .set_ca_certificate_identifier(input.ca_certificate_identifier.clone())
            .set_enable_cloudwatch_logs_exports(
                (!input.enabled_cloudwatch_logs_exports.is_empty())
                    .then(|| input.enabled_cloudwatch_logs_exports.clone()),
            )
            .set_tags(to_rds_tags(&input.tags));
        let out = request
            .send()
            .await
            .about(rds::KIND_DB_SNAPSHOT, &input.db_snapshot_identifier)?;
        INSTANCE.of(out.db_instance.as_ref(), id)
    }

    async fn modify_db_instance(
        &self,
        input: &ModifyDbInstanceInput,
    ) -> Result<DbInstance, AwsError> {
        let id = &input.db_instance_identifier;
        // A rename onto a taken identifier must fail like AWS does; some emulators silently
        // replace the other instance, so check here too (the engine checks as well).
        if let Some(new_id) = &input.new_db_instance_identifier
            && !new_id.eq_ignore_ascii_case(id)
        {
            match rds::find_db_instance_by_id(self.rds(), new_id).await {
                Ok(_) => {
                    return Err(AwsError::AlreadyExists {
                        code: "DBInstanceAlreadyExists".to_owned(),
                        message: format!(
                            "cannot rename {} ({id}) to {new_id}: that identifier is taken",
                            rds::KIND_DB_INSTANCE
                        ),
                    });
                }
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let pi = input.performance_insights.as_ref();
        let request = self
            .rds()
            .modify_db_instance()
            .db_instance_identifier(id)
            .set_new_db_instance_identifier(input.new_db_instance_identifier.clone())
            .set_backup_retention_period(input.backup_retention_period)
            .set_preferred_backup_window(input.preferred_backup_window.clone())
            .set_preferred_maintenance_window(input.preferred_maintenance_window.clone())
            .set_monitoring_interval(input.monitoring_interval)
            .set_monitoring_role_arn(input.monitoring_role_arn.clone())
            .set_enable_performance_insights(pi.map(|p| p.enabled))
            .set_performance_insights_kms_key_id(
                pi.filter(|p| p.enabled).and_then(|p| p.kms_key_id.clone()),
            )
            .set_performance_insights_retention_period(
                pi.filter(|p| p.enabled)
                    .and_then(|p| p.retention_period_days),
            )
            .set_deletion_protection(input.deletion_protection)
            .set_max_allocated_storage(input.max_allocated_storage)
            .set_vpc_security_group_ids(input.vpc_security_group_ids.clone())
            .apply_immediately(input.apply_immediately);
        let out = request.send().await.about(rds::KIND_DB_INSTANCE, id)?;
        INSTANCE.of(out.db_instance.as_ref(), id)
    }

    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError> {
        Ok(rds::find_db_instances(self.rds(), Vec::new())
            .await?
            .iter()
            .map(db_instance)
            .collect())
    }

    async fn describe_db_parameter(
        &self,
        group: &str,
        name: &str,
    ) -> Result<Option<String>, AwsError> {
        let mut found =
            crate::preflight::aws::find_db_parameters(self.rds(), group, &[name]).await?;
        Ok(found.remove(name))
    }

    async fn modify_db_parameter(&self, input: &ModifyDbParameterInput) -> Result<(), AwsError> {
        let parameter = rds_t::Parameter::builder()
            .parameter_name(&input.name)
            .parameter_value(&input.value)
            .apply_method(rds_t::ApplyMethod::Immediate)
            .build();
        self.rds()
            .modify_db_parameter_group()
            .db_parameter_group_name(&input.group)
            .parameters(parameter)
            .send()
            .await
            .about(rds::KIND_DB_PARAMETER_GROUP, &input.group)?;
        Ok(())
    }

    async fn copy_db_parameter_group(
        &self,
        input: &CopyDbParameterGroupInput,
    ) -> Result<(), AwsError> {
        self.rds()
            .copy_db_parameter_group()
            .source_db_parameter_group_identifier(&input.source_group)
            .target_db_parameter_group_identifier(&input.target_group)
            .target_db_parameter_group_description(&input.description)
            .set_tags(to_rds_tags(&input.tags))
            .send()
            .await
            .about(rds::KIND_DB_PARAMETER_GROUP, &input.source_group)?;
        Ok(())
    }

    async fn delete_db_instance(&self, input: &DeleteDbInstanceInput) -> Result<(), AwsError> {
        let id = &input.db_instance_identifier;
        let req = self
            .rds()
            .delete_db_instance()
            .db_instance_identifier(id)
            .delete_automated_backups(input.delete_automated_backups);
        let req = match &input.final_snapshot {
            FinalSnapshot::Take(snapshot) => req
                .skip_final_snapshot(false)
                .final_db_snapshot_identifier(snapshot),
            FinalSnapshot::Skip => req.skip_final_snapshot(true),
        };
        req.send().await.about(rds::KIND_DB_INSTANCE, id).map(drop)
    }

    async fn stop_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        let request = self
            .rds()
            .stop_db_instance()
            .db_instance_identifier(identifier);
        let out = request
            .send()
            .await
            .about(rds::KIND_DB_INSTANCE, identifier)?;
        INSTANCE.of(out.db_instance.as_ref(), identifier)
    }

    async fn create_read_replica(
        &self,
        input: &CreateReadReplicaInput,
    ) -> Result<DbInstance, AwsError> {
        let id = &input.db_instance_identifier;
        let request = self
            .rds()
            .create_db_instance_read_replica()
            .db_instance_identifier(id)
            .source_db_instance_identifier(&input.source_db_instance_identifier)
            .set_db_instance_class(input.instance_class.clone())
            .set_availability_zone(input.availability_zone.clone())
            .set_db_parameter_group_name(input.db_parameter_group_name.clone())
            .set_vpc_security_group_ids(
                (!input.vpc_security_group_ids.is_empty())
                    .then(|| input.vpc_security_group_ids.clone()),
            )
            .publicly_accessible(input.publicly_accessible)
            .set_tags(to_rds_tags(&input.tags));
        let out = request
            .send()
            .await
            .about(rds::KIND_DB_INSTANCE, &input.source_db_instance_identifier)?;
        INSTANCE.of(out.db_instance.as_ref(), id)
    }

    // --- RDS snapshots ---

    async fn create_db_snapshot(
        &self,
        input: &CreateDbSnapshotInput,
    ) -> Result<DbSnapshot, AwsError> {
        let request = self
            .rds()
            .create_db_snapshot()
            .db_snapshot_identifier(&input.snapshot_identifier)
            .db_instance_identifier(&input.db_instance_identifier)
            .set_tags(to_rds_tags(&input.tags));
        let out = request
            .send()
            .await
            .about(rds::KIND_DB_INSTANCE, &input.db_instance_identifier)?;
        SNAPSHOT.of(out.db_snapshot.as_ref(), &input.snapshot_identifier)
    }

    async fn describe_db_snapshot(&self, identifier: &str) -> Result<DbSnapshot, AwsError> {
        rds::find_db_snapshot_by_id(self.rds(), identifier)
            .await
            .map(|s| db_snapshot(&s))
    }

    async fn copy_db_snapshot(&self, input: &CopyDbSnapshotInput) -> Result<DbSnapshot, AwsError> {
        let request = self
            .rds()
            .copy_db_snapshot()
            .source_db_snapshot_identifier(&input.source_snapshot_identifier)
            .target_db_snapshot_identifier(&input.target_snapshot_identifier)
            .kms_key_id(&input.kms_key_id)
            .copy_tags(input.copy_tags)
            .set_tags(to_rds_tags(&input.tags));
        let out = request
            .send()
            .await
            .about(rds::KIND_DB_SNAPSHOT, &input.source_snapshot_identifier)?;
        SNAPSHOT.of(out.db_snapshot.as_ref(), &input.target_snapshot_identifier)
    }

    async fn delete_db_snapshot(&self, identifier: &str) -> Result<(), AwsError> {
        let request = self
            .rds()
            .delete_db_snapshot()
            .db_snapshot_identifier(identifier);
        request
            .send()
            .await
            .about(rds::KIND_DB_SNAPSHOT, identifier)
            .map(drop)
    }

    // --- KMS ---

    async fn create_blue_green_deployment(
        &self,
        input: &CreateBlueGreenDeploymentInput,
    ) -> Result<BlueGreenDeployment, AwsError> {
        let configs = input
            .target_resource_configurations
            .iter()
            .map(|c| {
                rds_t::TargetResourceConfiguration::builder()
                    .source_arn(&c.source_arn)
                    .target_kms_key_id(&c.kms_key_id)
                    .build()
                    .map_err(|e| AwsError::Service {
                        code: "InvalidParameterValue".into(),
                        message: e.to_string(),
                        status: None,
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let request = self
            .rds()
            .create_blue_green_deployment()
            .blue_green_deployment_name(&input.name)
            .source(&input.source_arn)
            .set_target_resource_configurations((!configs.is_empty()).then_some(configs))
            .set_target_engine_version(input.target_engine_version.clone())
            .set_target_db_parameter_group_name(input.target_db_parameter_group_name.clone())
            .set_tags(to_rds_tags(&input.tags));
        let out = request
            .send()
            .await
            .about(rds::KIND_DB_INSTANCE, &input.source_arn)?;
        DEPLOYMENT.of(out.blue_green_deployment.as_ref(), &input.name)
    }

    async fn describe_blue_green_deployment(
        &self,
        which: &BlueGreenRef,
    ) -> Result<BlueGreenDeployment, AwsError> {
        let d = match which {
            BlueGreenRef::Id(id) => rds::find_blue_green_deployment_by_id(self.rds(), id).await?,
            BlueGreenRef::Name(n) => rds::find_blue_green_deployment_by_name(self.rds(), n).await?,
        };
        Ok(blue_green_deployment(&d))
    }

    async fn switchover_blue_green_deployment(
        &self,
        identifier: &str,
        timeout_seconds: i32,
    ) -> Result<BlueGreenDeployment, AwsError> {
        let request = self
            .rds()
            .switchover_blue_green_deployment()
            .blue_green_deployment_identifier(identifier)
            .switchover_timeout(timeout_seconds);
        let out = request
            .send()
            .await
            .about(rds::KIND_BLUE_GREEN_DEPLOYMENT, identifier)?;
        DEPLOYMENT.of(out.blue_green_deployment.as_ref(), identifier)
    }

    async fn delete_blue_green_deployment(
        &self,
        identifier: &str,
        delete_target: bool,
    ) -> Result<(), AwsError> {
        let request = self
            .rds()
            .delete_blue_green_deployment()
            .blue_green_deployment_identifier(identifier)
            .delete_target(delete_target);
        request
            .send()
            .await
            .about(rds::KIND_BLUE_GREEN_DEPLOYMENT, identifier)
            .map(drop)
    }

    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError> {
        kms::find_key_by_id(self.kms(), key_id)
            .await
            .map(|k| kms_key(&k))
    }

    // --- DMS replication subnet groups ---

    async fn create_replication_subnet_group(
        &self,
        input: &CreateReplicationSubnetGroupInput,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        let id = &input.identifier;
        let request = self
            .dms()
            .create_replication_subnet_group()
            .replication_subnet_group_identifier(id)
            .replication_subnet_group_description(&input.description)
            .set_subnet_ids(Some(input.subnet_ids.clone()))
            .set_tags(to_dms_tags(&input.tags));
        let out = request
            .send()
            .await
            .about(dms::KIND_REPLICATION_SUBNET_GROUP, id)?;
        SUBNET_GROUP.of(out.replication_subnet_group.as_ref(), id)
    }

    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        dms::find_replication_subnet_group_by_id(self.dms(), identifier)
            .await
            .map(|g| replication_subnet_group(&g))
    }

    async fn delete_replication_subnet_group(&self, identifier: &str) -> Result<(), AwsError> {
        let request = self
            .dms()
            .delete_replication_subnet_group()
            .replication_subnet_group_identifier(identifier);
        request
            .send()
            .await
            .about(dms::KIND_REPLICATION_SUBNET_GROUP, identifier)
            .map(drop)
    }

    // --- DMS replication instances ---

    async fn create_replication_instance(
        &self,
        input: &CreateReplicationInstanceInput,
    ) -> Result<ReplicationInstance, AwsError> {
        let id = &input.identifier;
        let request = self
            .dms()
            .create_replication_instance()
            .replication_instance_identifier(id)
            .replication_instance_class(&input.instance_class)
            .set_allocated_storage(input.allocated_storage)
            .set_replication_subnet_group_identifier(input.subnet_group_identifier.clone())
            .set_vpc_security_group_ids(
                (!input.vpc_security_group_ids.is_empty())
                    .then(|| input.vpc_security_group_ids.clone()),
            )
            .multi_az(input.multi_az)
            .publicly_accessible(input.publicly_accessible)
            .set_engine_version(input.engine_version.clone())
            .set_kms_key_id(input.kms_key_id.clone())
            .set_tags(to_dms_tags(&input.tags));
        let out = request
            .send()
            .await
            .about(dms::KIND_REPLICATION_INSTANCE, id)?;
        REPLICATION_INSTANCE.of(out.replication_instance.as_ref(), id)
    }

    async fn describe_replication_instance(
        &self,
        which: &DmsRef,
    ) -> Result<ReplicationInstance, AwsError> {
        dms::find_replication_instance_by_id(self.dms(), which.as_str())
            .await
            .map(|r| replication_instance(&r))
    }

    async fn delete_replication_instance(&self, arn: &str) -> Result<(), AwsError> {
        let request = self
            .dms()
            .delete_replication_instance()
            .replication_instance_arn(arn);
        request
            .send()
            .await
            .about(dms::KIND_REPLICATION_INSTANCE, arn)
            .map(drop)
    }

    // --- DMS endpoints ---

    async fn create_endpoint(&self, input: &CreateEndpointInput) -> Result<Endpoint, AwsError> {
        let id = &input.identifier;
        // Moto silently replaces an endpoint with the same identifier; AWS refuses. Check
        // first so both behave like AWS and an existing endpoint is never overwritten.
        match dms::find_endpoint_by_id(self.dms(), id).await {
            Ok(existing) => {
                return Err(AwsError::AlreadyExists {
                    code: "ResourceAlreadyExistsFault".to_owned(),
                    message: format!(
                        "{} ({id}) already exists: {}",
                        dms::KIND_ENDPOINT,
                        existing.endpoint_arn().unwrap_or_default()
                    ),
                });
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e),
        }
        let (mysql, pg) = engine_settings(
            &input.engine,
            input.after_connect_script.as_deref(),
            Some(&input.credentials),
        );
        let mut req = self
            .dms()
            .create_endpoint()
            .endpoint_identifier(id)
            .endpoint_type(dms_t::ReplicationEndpointTypeValue::from(
                input.endpoint_type.as_str(),
            ))
            .engine_name(input.engine.as_str())
            .server_name(&input.server_name)
            .port(i32::from(input.port))
            .set_database_name(input.database_name.clone())
            .ssl_mode(dms_t::DmsSslModeValue::from(input.ssl_mode.as_str()))
            .set_extra_connection_attributes(input.extra_connection_attributes.clone())
            .set_my_sql_settings(mysql)
            .set_postgre_sql_settings(pg)
            .set_tags(to_dms_tags(&input.tags));
        if let EndpointCredentials::Password { username, password } = &input.credentials {
            req = req.username(username).password(password.expose());
        }
        let out = req.send().await.about(dms::KIND_ENDPOINT, id)?;
        ENDPOINT.of(out.endpoint.as_ref(), id)
    }

    async fn describe_endpoint(&self, which: &DmsRef) -> Result<Endpoint, AwsError> {
        dms::find_endpoint_by_id(self.dms(), which.as_str())
            .await
            .map(|e| endpoint(&e))
    }

    async fn modify_endpoint(&self, input: &ModifyEndpointInput) -> Result<Endpoint, AwsError> {
        let arn = &input.arn;
        // The engine family decides which settings structure carries the script/secret.
        let current = dms::find_endpoint_by_id(self.dms(), arn).await?;
        let engine = EndpointEngine::from_aws(current.engine_name().unwrap_or_default());
        let (mysql, pg) = engine_settings(
            &engine,
            input.after_connect_script.as_deref(),
            input.credentials.as_ref(),
        );
        let mut req = self
            .dms()
            .modify_endpoint()
            .endpoint_arn(arn)
            .set_server_name(input.server_name.clone())
            .set_port(input.port.map(i32::from))
            .set_database_name(input.database_name.clone())
            .set_ssl_mode(
                input
                    .ssl_mode
                    .as_ref()
                    .map(|m| dms_t::DmsSslModeValue::from(m.as_str())),
            )
            .set_extra_connection_attributes(input.extra_connection_attributes.clone())
            .set_my_sql_settings(mysql)
            .set_postgre_sql_settings(pg);
        if let Some(EndpointCredentials::Password { username, password }) = &input.credentials {
            req = req.username(username).password(password.expose());
        }
        let out = req.send().await.about(dms::KIND_ENDPOINT, arn)?;
        ENDPOINT.of(out.endpoint.as_ref(), arn)
    }

    async fn delete_endpoint(&self, arn: &str) -> Result<(), AwsError> {
        let request = self.dms().delete_endpoint().endpoint_arn(arn);
        request
            .send()
            .await
            .about(dms::KIND_ENDPOINT, arn)
            .map(drop)
    }

    async fn test_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError> {
        let request = self
            .dms()
            .test_connection()
            .replication_instance_arn(replication_instance_arn)
            .endpoint_arn(endpoint_arn);
        let out = request
            .send()
            .await
            .about(dms::KIND_CONNECTION, endpoint_arn)?;
        CONNECTION.of(out.connection.as_ref(), endpoint_arn)
    }

    async fn describe_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError> {
        dms::find_connection(self.dms(), endpoint_arn, replication_instance_arn)
            .await
            .map(|c| connection(&c))
    }

    // --- DMS replication tasks ---

    async fn create_replication_task(
        &self,
        input: &CreateReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError> {
        let id = &input.identifier;
        let request = self
            .dms()
            .create_replication_task()
            .replication_task_identifier(id)
            .replication_instance_arn(&input.replication_instance_arn)
            .source_endpoint_arn(&input.source_endpoint_arn)
            .target_endpoint_arn(&input.target_endpoint_arn)
            .migration_type(dms_t::MigrationTypeValue::from(
                input.migration_type.as_str(),
            ))
            .table_mappings(&input.table_mappings)
            .replication_task_settings(&input.task_settings)
            .set_cdc_start_position(input.cdc_start_position.clone())
            .set_tags(to_dms_tags(&input.tags));
        let out = request.send().await.about(dms::KIND_REPLICATION_TASK, id)?;
        TASK.of(out.replication_task.as_ref(), id)
    }

    async fn describe_replication_task(&self, which: &DmsRef) -> Result<ReplicationTask, AwsError> {
        dms::find_replication_task_by_id(self.dms(), which.as_str())
            .await
            .map(|t| replication_task(&t))
    }

    async fn modify_replication_task(
        &self,
        input: &ModifyReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError> {
        let arn = &input.arn;
        let request = self
            .dms()
            .modify_replication_task()
            .replication_task_arn(arn)
            .set_migration_type(
                input
                    .migration_type
                    .as_ref()
                    .map(|m| dms_t::MigrationTypeValue::from(m.as_str())),
            )
            .set_table_mappings(input.table_mappings.clone())
            .set_replication_task_settings(input.task_settings.clone())
            .set_cdc_start_position(input.cdc_start_position.clone());
        let out = request
            .send()
            .await
            .about(dms::KIND_REPLICATION_TASK, arn)?;
        TASK.of(out.replication_task.as_ref(), arn)
    }

    async fn start_replication_task(
        &self,
        input: &StartReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError> {
        let arn = &input.arn;
        let request = self
            .dms()
            .start_replication_task()
            .replication_task_arn(arn)
            .start_replication_task_type(dms_t::StartReplicationTaskTypeValue::from(
                input.start_type.as_str(),
            ))
            .set_cdc_start_position(input.cdc_start_position.clone());
        let out = request
            .send()
            .await
            .about(dms::KIND_REPLICATION_TASK, arn)?;
        TASK.of(out.replication_task.as_ref(), arn)
    }

    async fn stop_replication_task(&self, arn: &str) -> Result<ReplicationTask, AwsError> {
        let request = self.dms().stop_replication_task().replication_task_arn(arn);
        let out = request
            .send()
            .await
            .about(dms::KIND_REPLICATION_TASK, arn)?;
        TASK.of(out.replication_task.as_ref(), arn)
    }

    async fn delete_replication_task(&self, arn: &str) -> Result<(), AwsError> {
        let request = self
            .dms()
            .delete_replication_task()
            .replication_task_arn(arn);
        request
            .send()
            .await
            .about(dms::KIND_REPLICATION_TASK, arn)
            .map(drop)
    }

    async fn describe_table_statistics(
        &self,
        task_arn: &str,
    ) -> Result<Vec<TableStatistics>, AwsError> {
        Ok(dms::find_table_statistics(self.dms(), task_arn)
            .await?
            .iter()
            .map(table_statistics)
            .collect())
    }

    // --- CloudWatch ---

    async fn cdc_latency(&self, query: &CdcLatencyQuery) -> Result<CdcLatency, AwsError> {
        let l = cloudwatch::get_cdc_latency(
            self.cloudwatch(),
            &query.replication_instance_identifier,
            &query.replication_task_identifier,
            query.end,
            query.window,
            query.period,
        )
        .await?;
        Ok(CdcLatency {
            source_seconds: l.source.map(|(_, v)| v),
            target_seconds: l.target.map(|(_, v)| v),
            source_at: l.source.map(|(t, _)| t),
            target_at: l.target.map(|(t, _)| t),
        })
    }

    // --- Tags ---

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        match arn_service(arn) {
            Some("rds") => {
                let request = self.rds().list_tags_for_resource().resource_name(arn);
                let out = request.send().await.about("RDS resource", arn)?;
                Ok(rds_tags(out.tag_list()))
            }
            Some("dms") => {
                let request = self.dms().list_tags_for_resource().resource_arn(arn);
                let out = request.send().await.about("DMS resource", arn)?;
                Ok(dms_tags(out.tag_list()))
            }
            _ => Err(unsupported_arn(arn)),
        }
    }

    async fn upsert_cname(&self, input: &UpsertCnameInput) -> Result<String, AwsError> {
        route53::upsert_cname(
            self.route53(),
            &input.zone_id,
            &input.record_name,
            &input.value,
            input.ttl,
            &input.comment,
        )
        .await
    }

    async fn route53_change_status(&self, change_id: &str) -> Result<ChangeStatus, AwsError> {
        let status = route53::status_change(self.route53(), change_id).await?;
        Ok(ChangeStatus::from_aws(status.as_str()))
    }

    async fn describe_cname(
        &self,
        zone_id: &str,
        record_name: &str,
    ) -> Result<CnameRecord, AwsError> {
        let r = route53::find_record_set(
            self.route53(),
            zone_id,
            record_name,
            aws_sdk_route53::types::RrType::Cname,
        )
        .await?;
        let value = r
            .resource_records()
            .first()
            .map(|v| v.value().trim_end_matches('.').to_owned())
            .unwrap_or_default();
        Ok(CnameRecord {
            value,
            ttl: r.ttl(),
        })
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        if tags.is_empty() {
            return Ok(());
        }
        match arn_service(arn) {
            Some("rds") => {
                let request = self
                    .rds()
                    .add_tags_to_resource()
                    .resource_name(arn)
                    .set_tags(to_rds_tags(tags));
                request.send().await.about("RDS resource", arn).map(drop)
            }
            Some("dms") => {
                let request = self
                    .dms()
                    .add_tags_to_resource()
                    .resource_arn(arn)
                    .set_tags(to_dms_tags(tags));
                request.send().await.about("DMS resource", arn).map(drop)
            }
            _ => Err(unsupported_arn(arn)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_calls_dispatch_on_the_arn_service() {
        assert_eq!(
            arn_service("arn:aws:rds:eu-west-1:123456789012:db:orders"),
            Some("rds")
        );
        assert_eq!(
            arn_service("arn:aws:dms:eu-west-1:123456789012:task:ABC"),
            Some("dms")
        );
        assert_eq!(arn_service("orders"), None);
    }

    #[test]
    fn secrets_manager_credentials_go_into_the_engine_family_settings() {
        let creds = EndpointCredentials::SecretsManager {
            secret_arn: "arn:aws:secretsmanager:eu-west-1:1:secret:s".into(),
            access_role_arn: "arn:aws:iam::1:role/dms".into(),
        };
        let (mysql, pg) = engine_settings(
            &EndpointEngine::Mariadb,
            Some("SET FOREIGN_KEY_CHECKS=0"),
            Some(&creds),
        );
        let mysql = mysql.expect("mysql settings");
        assert!(pg.is_none());
        assert_eq!(
            mysql.secrets_manager_secret_id(),
            Some("arn:aws:secretsmanager:eu-west-1:1:secret:s")
        );
        assert_eq!(
            mysql.after_connect_script(),
            Some("SET FOREIGN_KEY_CHECKS=0")
        );
        let (mysql, pg) = engine_settings(&EndpointEngine::Postgres, None, None);
        assert!(mysql.is_none() && pg.is_none());
    }

    #[test]
    fn sdk_instances_map_to_domain_types_with_typed_status() {
        let sdk = rds_t::DbInstance::builder()
            .db_instance_identifier("orders")
            .db_instance_status("backing-up")
            .engine("postgres")
            .endpoint(
                rds_t::Endpoint::builder()
                    .address("orders.x.eu-west-1.rds.amazonaws.com")
                    .port(5432)
                    .build(),
            )
            .tag_list(
                rds_t::Tag::builder()
                    .key("rdsenc:role")
                    .value("target")
                    .build(),
            )
            .build();
        let d = db_instance(&sdk);
        assert_eq!(d.status, DbInstanceStatus::BackingUp);
        assert_eq!(d.engine, DbEngine::Postgres);
        assert_eq!(d.port, Some(5432));
        assert_eq!(
            d.endpoint.map(|e| e.address),
            Some("orders.x.eu-west-1.rds.amazonaws.com".to_owned())
        );
        assert_eq!(
            d.tags.get("rdsenc:role").map(String::as_str),
            Some("target")
        );
    }
}
