//! Cutover, failback and finalize through the engine over the real SDK adapter
//! (`Clients`), against the rdsenc emulator on 127.0.0.1: a Route 53 CNAME switch, an
//! identifier swap (two renames each way) and the reverse DMS task. Never real AWS.
//!
//! Run: `cargo test --test aws_cutover_against_emulator`. The emulator is started as a child
//! process, as in `aws_against_emulator.rs` (`$RDSENC_PYTHON`, `$RDSENC_EMULATOR`); this
//! test needs the patched emulator (DMS timestamps, CloudWatch CBOR, Route 53 PENDING).

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use rdsenc::aws::Clients;
use rdsenc_engine::api::{
    AwsApi, EndpointCredentials, MigrationType, ReplicationTaskStatus, SecretString,
};
use rdsenc_engine::{
    CutoverSpec, CutoverStrategy, DmsSpec, Engine, KnownIds, MigrationSpec, Phase, PollPolicy,
    RetireSource, Route53Record, SwitchOp, SystemClock, TablePrepMode, TargetOverrides, WriteFence,
};
use tokio_util::sync::CancellationToken;

// ------------------------------------------------------------------------------------------
// The emulator process

mod support;

use support::Emulator;

fn spec() -> MigrationSpec {
    MigrationSpec {
        source_db_instance_identifier: "orders".into(),
        kms_key_id: "alias/rdsenc-cutover".into(),
        target_db_instance_identifier: None,
        dms: DmsSpec {
            replication_instance_arn: None,
            replication_instance_class: None,
            allocated_storage: None,
            replication_subnet_group_id: None,
            vpc_security_group_ids: Vec::new(),
            source_from_read_replica: false,
            source_credentials: EndpointCredentials::Password {
                username: "dms".into(),
                password: SecretString::new("not-a-real-password"),
            },
            target_credentials: None,
            database_name: None,
            table_mappings: None,
            target_table_prep_mode: TablePrepMode::TruncateBeforeLoad,
            migration_type: MigrationType::FullLoadAndCdc,
            cdc_start_position: None,
            validation: false,
        },
        target: TargetOverrides::default(),
        delete_target_on_destroy: false,
        skip_final_snapshot: false,
        strategy: rdsenc_engine::Strategy::Dms,
        blue_green: Default::default(),
    }
}

fn cut(strategy: CutoverStrategy) -> CutoverSpec {
    CutoverSpec {
        strategy,
        write_fence: WriteFence::SecurityGroups(vec!["sg-fence".into()]),
        max_lag: Duration::from_secs(5),
        require_validation: false,
        retire_source: RetireSource::Stop,
        switchover_timeout_seconds: None,
    }
}

async fn cname(clients: &Clients, zone: &str) -> String {
    clients
        .describe_cname(zone, "orders-db.example.internal")
        .await
        .expect("cname")
        .value
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_and_identifier_swap_cutovers_fail_back_and_finalize_through_the_sdk() {
    let emu = Emulator::start();
    let clients = Arc::new(emu.clients().await);
    clients
        .rds()
        .create_db_instance()
        .db_instance_identifier("orders")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .db_name("app")
        .master_username("postgres")
        .master_user_password("not-a-real-password")
        .vpc_security_group_ids("sg-app")
        .send()
        .await
        .expect("create source");
    let key = clients
        .kms()
        .create_key()
        .send()
        .await
        .expect("key")
        .key_metadata
        .expect("metadata");
    clients
        .kms()
        .create_alias()
        .alias_name("alias/rdsenc-cutover")
        .target_key_id(key.key_id())
        .send()
        .await
        .expect("alias");
    let zone = clients
        .route53()
        .create_hosted_zone()
        .name("example.internal")
        .caller_reference("rdsenc-cutover")
        .send()
        .await
        .expect("zone")
        .hosted_zone
        .expect("zone in response");
    let zone = zone.id().rsplit('/').next().expect("zone id").to_owned();

    // A given replication instance: the source here has no DB subnet group to derive a
    // managed one from (the SDK clients have no EC2 to make one).
    let ri = clients
        .create_replication_instance(&rdsenc_engine::api::CreateReplicationInstanceInput {
            identifier: "shared-dms".into(),
            instance_class: "dms.t3.medium".into(),
            allocated_storage: Some(50),
            subnet_group_identifier: None,
            vpc_security_group_ids: Vec::new(),
            multi_az: false,
            publicly_accessible: false,
            engine_version: None,
            kms_key_id: None,
            tags: Default::default(),
        })
        .await
        .expect("replication instance");
    let which = rdsenc_engine::api::DmsRef::Arn(ri.arn.clone());
    support::poll(
        "replication instance available",
        || clients.describe_replication_instance(&which),
        |r| {
            matches!(r, Ok(i) if i.status == rdsenc_engine::api::ReplicationInstanceStatus::Available)
        },
    )
    .await
    .expect("replication instance available");
    let aws: Arc<dyn AwsApi> = clients.clone();
    let engine = Engine::new(
        aws,
        Arc::new(SystemClock),
        PollPolicy::production().scaled(0.001),
    );
    let mut spec = spec();
    spec.dms.replication_instance_arn = Some(ri.arn.clone());
    let known = KnownIds::default();
    let budget = Duration::from_secs(120);
    let cancel = CancellationToken::new();
    let o = Box::pin(engine.reconcile_to_replicating(&spec, &known, budget, &cancel))
        .await
        .unwrap_or_else(|f| panic!("create: {}", f.error));
    assert_eq!(o.phase, Phase::Replicating);
    let source_addr = o
        .source
        .as_ref()
        .and_then(|s| s.endpoint.as_ref())
        .expect("source address")
        .address
        .clone();
    let target_addr = o.target_address().expect("target address").address.clone();
    clients
        .upsert_cname(&rdsenc_engine::api::UpsertCnameInput {
            zone_id: zone.clone(),
            record_name: "orders-db.example.internal".into(),
            value: source_addr.clone(),
            ttl: 30,
            comment: "the application's name".into(),
        })
        .await
        .expect("seed cname");

    // Route 53 cutover and failback.
    let r53 = cut(CutoverStrategy::Route53(Route53Record {
        zone_id: zone.clone(),
        record_name: "orders-db.example.internal".into(),
        ttl: 30,
    }));
    let o = Box::pin(engine.switch(SwitchOp::Cutover, &spec, &r53, &known, budget, &cancel))
        .await
        .unwrap_or_else(|f| panic!("route53 cutover: {}", f.error));
    assert_eq!(o.phase, Phase::CutOver);
    assert_eq!(cname(&clients, &zone).await, target_addr);
    let rev = o.reverse_task.as_ref().expect("reverse task");
    assert_eq!(rev.status, ReplicationTaskStatus::Running);
    assert_eq!(rev.migration_type, MigrationType::Cdc);
    assert!(rev.cdc_start_position.is_some(), "{rev:?}");
    assert_eq!(
        o.task.as_ref().map(|t| t.status.clone()),
        Some(ReplicationTaskStatus::Stopped)
    );
    let src = clients
        .describe_db_instance("orders")
        .await
        .expect("source");
    assert_eq!(src.vpc_security_group_ids, vec!["sg-fence".to_owned()]);

    let o = Box::pin(engine.switch(SwitchOp::Failback, &spec, &r53, &known, budget, &cancel))
        .await
        .unwrap_or_else(|f| panic!("route53 failback: {}", f.error));
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(cname(&clients, &zone).await, source_addr);
    let fwd = o.task.as_ref().expect("forward task");
    assert_eq!(fwd.status, ReplicationTaskStatus::Running);
    assert_eq!(fwd.migration_type, MigrationType::Cdc);
    let src = clients
        .describe_db_instance("orders")
        .await
        .expect("source");
    assert_eq!(src.vpc_security_group_ids, vec!["sg-app".to_owned()]);

    // Identifier swap cutover: two renames, the reverse endpoints follow the names.
    let swap = cut(CutoverStrategy::IdentifierSwap);
    let o = Box::pin(engine.switch(SwitchOp::Cutover, &spec, &swap, &known, budget, &cancel))
        .await
        .unwrap_or_else(|f| panic!("swap cutover: {}", f.error));
    assert_eq!(o.phase, Phase::CutOver);
    let orders = clients
        .describe_db_instance("orders")
        .await
        .expect("orders");
    assert!(
        orders.storage_encrypted,
        "orders names the encrypted instance"
    );
    let original = clients
        .describe_db_instance("orders-unencrypted")
        .await
        .expect("original renamed");
    assert!(!original.storage_encrypted);
    assert!(
        clients
            .describe_db_instance("orders-encrypted")
            .await
            .is_err_and(|e| e.is_not_found())
    );
    assert_eq!(
        o.reverse_source_endpoint
            .as_ref()
            .and_then(|e| e.server_name.clone()),
        orders.endpoint.as_ref().map(|e| e.address.clone())
    );
    assert_eq!(o.active_db_instance_identifier(), Some("orders"));

    // Finalize: DMS gone, the original stopped, the encrypted instance serving.
    let o = Box::pin(engine.switch(SwitchOp::Finalize, &spec, &swap, &known, budget, &cancel))
        .await
        .unwrap_or_else(|f| panic!("finalize: {}", f.error));
    assert_eq!(o.phase, Phase::Finalized);
    assert!(o.task.is_none() && o.reverse_task.is_none(), "{o:?}");
    assert!(
        o.source_endpoint.is_none() && o.reverse_target_endpoint.is_none(),
        "{o:?}"
    );
    assert!(
        o.replication_instance.is_some(),
        "a given replication instance is kept"
    );
    let original = clients
        .describe_db_instance("orders-unencrypted")
        .await
        .expect("original kept");
    assert_eq!(original.status.as_str(), "stopped");
    assert!(clients.describe_db_instance("orders").await.is_ok());
}
