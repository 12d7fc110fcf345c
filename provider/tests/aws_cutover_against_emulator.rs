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
use rdsenc_engine::api::{AwsApi, MigrationType, ReplicationTask, ReplicationTaskStatus};
use rdsenc_engine::{
    CutoverSpec, CutoverStrategy, Engine, KnownIds, Phase, PollPolicy, RetireSource, Route53Record,
    SwitchOp, SystemClock, WriteFence,
};
use tokio_util::sync::CancellationToken;

// ------------------------------------------------------------------------------------------
// The emulator process

mod support;

use support::World;

fn cut(strategy: CutoverStrategy) -> CutoverSpec {
    CutoverSpec {
        strategy,
        write_fence: WriteFence::SecurityGroups(vec!["sg-fence".into()]),
        max_lag: Duration::from_secs(5),
        require_validation: false,
        retire_source: RetireSource::Stop,
        fence_hold: Duration::from_secs(60),
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

/// The security groups of the source `orders` (the write fence swaps them).
async fn source_security_groups(clients: &Clients) -> Vec<String> {
    clients
        .describe_db_instance("orders")
        .await
        .expect("source")
        .vpc_security_group_ids
}

/// A task replicating changes only (the reverse task, or the forward one after failback).
fn assert_cdc_running(task: &ReplicationTask) {
    assert_eq!(task.status, ReplicationTaskStatus::Running, "{task:?}");
    assert_eq!(task.migration_type, MigrationType::Cdc, "{task:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route53_and_identifier_swap_cutovers_fail_back_and_finalize_through_the_sdk() {
    // The source has no DB subnet group to derive a managed replication instance from: the
    // world's given one is used.
    // `_emu` keeps the emulator running until the test ends.
    let World {
        emu: _emu,
        clients,
        ri,
        ..
    } = World::new(|source| source.db_name("app").vpc_security_group_ids("sg-app")).await;
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
    let aws: Arc<dyn AwsApi> = clients.clone();
    let engine = Engine::new(
        aws,
        Arc::new(SystemClock),
        PollPolicy::production().scaled(0.001),
    );
    let mut spec = support::spec(&ri);
    spec.dms.validation = false;
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

    let known_forward = o.task.as_ref().map(|t| t.arn.clone());
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
    assert_cdc_running(rev);
    // Started at the encrypted instance's own log position, not at a clock time.
    assert_eq!(rev.cdc_start_position, None, "{rev:?}");
    assert_eq!(
        o.task.as_ref().map(|t| t.status.clone()),
        Some(ReplicationTaskStatus::Stopped)
    );
    assert_eq!(source_security_groups(&clients).await, ["sg-fence"]);

    let o = Box::pin(engine.switch(SwitchOp::Failback, &spec, &r53, &known, budget, &cancel))
        .await
        .unwrap_or_else(|f| panic!("route53 failback: {}", f.error));
    assert_eq!(o.phase, Phase::Replicating);
    assert_eq!(cname(&clients, &zone).await, source_addr);
    let forward = o.task.as_ref().expect("forward task");
    assert_cdc_running(forward);
    // A forward task created afresh at the source's position, never the one from before.
    assert_eq!(forward.cdc_start_position, None, "{forward:?}");
    assert_ne!(known_forward.as_deref(), Some(forward.arn.as_str()));
    assert_eq!(source_security_groups(&clients).await, ["sg-app"]);

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
