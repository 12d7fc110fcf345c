//! The engine's public API end to end over the in-memory fake, as the resource glue uses it:
//! create -> read -> rotate a password -> cutover checks -> destroy.

use std::sync::Arc;
use std::time::Duration;

use rdsenc_engine::api::{
    CdcLatency, DbEngine, DbInstance, EndpointCredentials, HostPort, SecretString,
};
use rdsenc_engine::fake::FakeAws;
use rdsenc_engine::fixtures::SpecExt;
use rdsenc_engine::{
    DmsChange, Engine, KnownIds, MigrationSpec, Phase, PollPolicy, VirtualClock, cutover_checks,
};
use tokio_util::sync::CancellationToken;

/// The fixture spec on source `billing` with DMS password `password` (rotated between calls).
fn spec(password: &str) -> MigrationSpec {
    let mut spec = MigrationSpec::test()
        .target_id("billing-enc")
        .delete_target_on_destroy();
    spec.source_db_instance_identifier = "billing".into();
    spec.dms.replication_instance_class = Some("dms.t3.large".into());
    spec.dms.source_credentials = EndpointCredentials::Password {
        username: "dms".into(),
        password: SecretString::new(password),
    };
    spec
}

#[tokio::test(start_paused = true)]
async fn a_migration_goes_from_create_to_destroy_through_the_public_api() {
    let clock = Arc::new(VirtualClock::default());
    let fake = FakeAws::new(clock.clone());
    fake.add_instance(DbInstance {
        identifier: "billing".into(),
        engine: DbEngine::Mysql,
        instance_class: "db.m6g.large".into(),
        allocated_storage: 100,
        backup_retention_period: 3,
        port: Some(3306),
        endpoint: Some(HostPort {
            address: "billing.fake".into(),
            port: 3306,
        }),
        db_subnet_group: Some(rdsenc_engine::api::DbSubnetGroupInfo {
            name: "private".into(),
            vpc_id: "vpc-1".into(),
            subnet_ids: vec!["subnet-1".into(), "subnet-2".into()],
        }),
        ..Default::default()
    });
    fake.add_kms_key(&["alias/rds-at-rest"]);
    let engine = Engine::new(
        Arc::new(fake.clone()),
        clock,
        PollPolicy::production().scaled(0.5),
    );
    let cancel = CancellationToken::new();
    let day = Duration::from_secs(24 * 3600);

    let created = engine
        .reconcile_to_replicating(&spec("one"), &KnownIds::default(), day, &cancel)
        .await
        .map_err(|f| f.error.to_string());
    let created = created.expect("create reaches replicating");
    assert_eq!(created.phase, Phase::Replicating);
    assert_eq!(created.phase.as_str(), "replicating");
    let known = created.known_ids();
    let c = created.computed();
    assert_eq!(c.phase, "replicating");
    assert_eq!(c.full_load_progress_percent, Some(100));
    assert_eq!(c.replication_task_status.as_deref(), Some("running"));
    assert_eq!(c.validation_state, "validated");
    assert_eq!(
        c.source_snapshot_identifier.as_deref(),
        Some("rdsenc-billing-snapshot")
    );
    assert_eq!(c.active_db_instance_identifier.as_deref(), Some("billing"));
    assert_eq!(c.active_endpoint.as_deref(), Some("billing.fake:3306"));
    assert!(
        c.target_endpoint
            .is_some_and(|e| e.starts_with("billing-enc."))
    );
    assert!(c.replication_task_arn.is_some() && c.target_endpoint_arn.is_some());

    let read = engine
        .observe(&spec("one"), &known, &cancel)
        .await
        .expect("observe");
    assert_eq!(read, created);
    assert_eq!(read.active_db_instance_identifier(), Some("billing"));
    assert_eq!(
        read.target_address().map(|a| a.address.as_str()),
        Some("billing-enc.fake.us-east-1.rds.amazonaws.com")
    );

    let rotated = engine
        .update_dms_settings(
            &spec("two"),
            &known,
            &DmsChange {
                source_endpoint: true,
                ..Default::default()
            },
            day,
            &cancel,
        )
        .await
        .map_err(|f| f.error.to_string())
        .expect("rotation");
    assert_eq!(rotated.phase, Phase::Replicating);
    assert_eq!(
        fake.endpoint_password("rdsenc-billing-source").as_deref(),
        Some("two")
    );

    fake.set_cdc_latency(
        "rdsenc-billing",
        CdcLatency {
            source_seconds: Some(0.5),
            target_seconds: Some(2.0),
            ..Default::default()
        },
    );
    let ready = engine
        .observe(&spec("two"), &known, &cancel)
        .await
        .expect("observe");
    assert_eq!(
        cutover_checks(&ready, Duration::from_secs(10), true),
        Ok(())
    );

    let out = engine.teardown(&spec("two"), &known, day, &cancel).await;
    assert!(out.is_ok(), "{:?}", out.errors);
    assert!(fake.has_instance("billing"), "the source is never deleted");
    assert!(fake.has_snapshot("rdsenc-billing-target-final"));
    assert!(fake.dms_objects().is_empty());
}
