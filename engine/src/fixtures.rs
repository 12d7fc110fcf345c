//! Builder fixtures for engine tests: `World::test().mysql()`, `MigrationSpec::test()`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::api::*;
use super::clock::{PollPolicy, VirtualClock};
use super::core::{Engine, Progress};
use super::cutover::{CutoverSpec, SwitchOp};
use super::fake::FakeAws;
use super::observe::{KnownIds, Observed};
use super::reconcile::EngineFailure;
use super::spec::MigrationSpec;
use super::teardown::TeardownOutcome;

/// The budget the scenarios give every operation after the create path: long enough that
/// only a stuck waiter runs out of it on the virtual clock.
pub const BUDGET: Duration = Duration::from_secs(6 * 3600);

/// An operation of the switch family, run by [`World::switch`].
#[derive(Debug, Clone, Copy)]
pub enum Switch {
    /// [`SwitchOp::Cutover`].
    Cutover,
    /// [`SwitchOp::Failback`].
    Failback,
    /// [`SwitchOp::Finalize`].
    Finalize,
    /// [`Engine::apply_switch`] with the configured `cutover` and `finalize`.
    Apply(bool, bool),
}

/// The result of an engine operation that drives the migration.
pub type Outcome = Result<Observed, Box<EngineFailure>>;

/// Test constructors and modifiers for [`MigrationSpec`].
pub trait SpecExt: Sized {
    /// Source `orders`, key `alias/rds-at-rest`, managed DMS, password credentials.
    fn test() -> Self;
    /// Sets `target_db_instance_identifier`.
    fn target_id(self, id: &str) -> Self;
    /// Sets `delete_target_on_destroy`.
    #[allow(dead_code)]
    fn delete_target_on_destroy(self) -> Self;
}

impl SpecExt for MigrationSpec {
    fn test() -> Self {
        let password = EndpointCredentials::Password {
            username: "dms".into(),
            password: SecretString::new("s3cret-pw"),
        };
        MigrationSpec::new("orders", "alias/rds-at-rest", password)
    }
    fn target_id(mut self, id: &str) -> Self {
        self.target_db_instance_identifier = Some(id.into());
        self
    }
    fn delete_target_on_destroy(mut self) -> Self {
        self.delete_target_on_destroy = true;
        self
    }
}

/// A realistic unencrypted source: PostgreSQL, gp3, enhanced monitoring, Performance
/// Insights, 7-day backups, custom parameter group.
pub fn source_instance(engine: DbEngine) -> DbInstance {
    let port = match engine {
        DbEngine::Postgres => 5432,
        _ => 3306,
    };
    DbInstance {
        identifier: "orders".into(),
        status: DbInstanceStatus::Available,
        engine,
        engine_version: "16.4".into(),
        instance_class: "db.r6g.large".into(),
        allocated_storage: 400,
        storage_type: Some("gp3".into()),
        iops: Some(12000),
        storage_throughput: Some(500),
        storage_encrypted: false,
        port: Some(port),
        db_name: Some("app".into()),
        master_username: Some("admin".into()),
        multi_az: false,
        availability_zone: Some("us-east-1a".into()),
        publicly_accessible: false,
        deletion_protection: false,
        copy_tags_to_snapshot: true,
        auto_minor_version_upgrade: true,
        db_parameter_group_name: Some("orders-params".into()),
        option_group_name: Some("default:postgres-16".into()),
        db_subnet_group: Some(DbSubnetGroupInfo {
            name: "db-private".into(),
            vpc_id: "vpc-1".into(),
            subnet_ids: vec!["subnet-a".into(), "subnet-b".into()],
        }),
        vpc_security_group_ids: vec!["sg-db".into()],
        backup_retention_period: 7,
        monitoring_interval: 60,
        monitoring_role_arn: Some("arn:aws:iam::123456789012:role/rds-monitoring".into()),
        performance_insights: PerformanceInsights {
            enabled: true,
            kms_key_id: None,
            retention_period_days: Some(7),
        },
        tags: Tags::from([("team".to_owned(), "payments".to_owned())]),
        ..Default::default()
    }
}

/// A fake AWS with a source and a key, an engine over it, and a spec.
pub struct World {
    /// The fake AWS the engine calls.
    pub fake: FakeAws,
    /// The engine under test, over [`World::fake`] on a virtual clock.
    pub engine: Engine,
    /// The migration the test runs.
    pub spec: MigrationSpec,
    /// Cancels the engine's calls.
    pub cancel: CancellationToken,
    /// The ARN of the key the fake made for `alias/rds-at-rest`.
    pub key_arn: String,
    /// Every progress report the engine made, in order.
    pub progress: Arc<Mutex<Vec<Progress>>>,
}

impl World {
    /// PostgreSQL source `orders`; key with alias `alias/rds-at-rest`. Call inside a
    /// `start_paused` runtime.
    pub fn test() -> Self {
        let clock = Arc::new(VirtualClock::default());
        let fake = FakeAws::new(clock.clone());
        fake.add_instance(source_instance(DbEngine::Postgres));
        // The source's custom group, which create copies for the target.
        fake.set_db_parameters("orders-params", std::collections::BTreeMap::new());
        let key_arn = fake.add_kms_key(&["alias/rds-at-rest"]);
        let progress = Arc::new(Mutex::new(Vec::new()));
        let sink = progress.clone();
        let poll = PollPolicy {
            jitter: 0.0,
            ..PollPolicy::production()
        };
        let engine = Engine::new(Arc::new(fake.clone()), clock, poll).with_progress(Arc::new(
            move |p: &Progress| {
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(p.clone());
            },
        ));
        Self {
            fake,
            engine,
            spec: MigrationSpec::test(),
            cancel: CancellationToken::new(),
            key_arn,
            progress,
        }
    }

    /// Replaces the source with one of `engine`.
    pub fn engine(self, engine: DbEngine) -> Self {
        self.fake.add_instance(source_instance(engine));
        self
    }

    /// MySQL source.
    pub fn mysql(self) -> Self {
        self.engine(DbEngine::Mysql)
    }

    /// PostgreSQL source (the default).
    pub fn postgres(self) -> Self {
        self.engine(DbEngine::Postgres)
    }

    /// `strategy = "blue_green"` over the source with one same-region read replica
    /// `orders-replica`, whose green twin is encrypted with `alias/replica-key`. Returns
    /// the world and the replica key's ARN.
    pub fn blue_green(mut self) -> (Self, String) {
        let replica_key = self.fake.add_kms_key(&["alias/replica-key"]);
        if let Some(mut src) = self.fake.instance("orders") {
            src.read_replica_identifiers = vec!["orders-replica".into()];
            self.fake.add_instance(src);
        }
        self.fake.add_instance(DbInstance {
            identifier: "orders-replica".into(),
            read_replica_source: Some("orders".into()),
            backup_retention_period: 0,
            ..source_instance(DbEngine::Postgres)
        });
        self.spec.strategy = super::spec::Strategy::BlueGreen;
        self.spec
            .blue_green
            .replica_kms_key_ids
            .insert("orders-replica".into(), "alias/replica-key".into());
        (self, replica_key)
    }

    /// A replication instance `shared-dms` that exists before the migration, given in
    /// `dms.replication_instance_arn` (so the migration does not manage one). Returns the
    /// world and its ARN.
    pub async fn given_replication_instance(self) -> (Self, String) {
        let made = self
            .fake
            .create_replication_instance(&CreateReplicationInstanceInput {
                identifier: "shared-dms".into(),
                instance_class: "dms.r5.large".into(),
                allocated_storage: None,
                subnet_group_identifier: None,
                vpc_security_group_ids: Vec::new(),
                multi_az: false,
                publicly_accessible: false,
                engine_version: None,
                kms_key_id: None,
                tags: Tags::new(),
            })
            .await;
        let arn = match made {
            Ok(ri) => ri.arn,
            Err(e) => panic!("seeding the replication instance: {e}"),
        };
        let w = self.spec(|s| s.dms.replication_instance_arn = Some(arn.clone()));
        (w, arn)
    }

    /// The same world (one fake, one engine, one spec) whose operations run under `cancel`.
    pub fn with_cancel(&self, cancel: CancellationToken) -> Self {
        Self {
            fake: self.fake.clone(),
            engine: self.engine.clone(),
            spec: self.spec.clone(),
            cancel,
            key_arn: self.key_arn.clone(),
            progress: self.progress.clone(),
        }
    }

    /// Cancels the world's operations once `after` has passed on the clock.
    pub fn cancel_after(&self, after: Duration) -> tokio::task::JoinHandle<()> {
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            cancel.cancel();
        })
    }

    /// Changes the spec.
    pub fn spec(mut self, f: impl FnOnce(&mut MigrationSpec)) -> Self {
        f(&mut self.spec);
        self
    }

    /// Runs the create path with a 24 h budget.
    pub async fn reconcile(&self) -> Result<Observed, Box<EngineFailure>> {
        self.reconcile_within(Duration::from_secs(24 * 3600)).await
    }

    /// Runs the create path within `timeout`.
    pub async fn reconcile_within(
        &self,
        timeout: Duration,
    ) -> Result<Observed, Box<EngineFailure>> {
        self.engine
            .reconcile_to_replicating(&self.spec, &KnownIds::default(), timeout, &self.cancel)
            .await
    }

    /// Runs `op` within [`BUDGET`], with no recorded ids.
    pub async fn switch(&self, op: Switch, cut: &CutoverSpec) -> Outcome {
        self.switch_within(op, cut, BUDGET).await
    }

    /// Runs `op` within `timeout`, with no recorded ids.
    pub async fn switch_within(&self, op: Switch, cut: &CutoverSpec, timeout: Duration) -> Outcome {
        let (e, s, k, c) = (&self.engine, &self.spec, &KnownIds::default(), &self.cancel);
        let op = match op {
            Switch::Cutover => SwitchOp::Cutover,
            Switch::Failback => SwitchOp::Failback,
            Switch::Finalize => SwitchOp::Finalize,
            Switch::Apply(cutover, finalize) => {
                return e
                    .apply_switch(s, cut, cutover, finalize, k, timeout, c)
                    .await;
            }
        };
        e.switch(op, s, cut, k, timeout, c).await
    }

    /// Runs [`Engine::teardown`] within [`BUDGET`], with no recorded ids.
    pub async fn teardown(&self) -> TeardownOutcome {
        let known = KnownIds::default();
        let run = self
            .engine
            .teardown(&self.spec, &known, BUDGET, &self.cancel);
        run.await
    }

    /// Observes with no recorded ids.
    pub async fn observe(&self) -> Observed {
        self.observe_known(&KnownIds::default()).await
    }

    /// Observes with the ids `known` (what the state recorded).
    pub async fn observe_known(&self, known: &KnownIds) -> Observed {
        let cancel = CancellationToken::new();
        match self.engine.observe(&self.spec, known, &cancel).await {
            Ok(o) => o,
            Err(e) => panic!("observe failed: {e}"),
        }
    }

    /// Refreshes with the ids `known` (what the state recorded).
    pub async fn refresh(&self, known: &KnownIds) -> Observed {
        let cancel = CancellationToken::new();
        match self.engine.refresh(&self.spec, known, &cancel).await {
            Ok(o) => o,
            Err(e) => panic!("refresh failed: {e}"),
        }
    }

    /// Runs `op` on a cleared call log and returns its failure, asserting it changed
    /// nothing: a refusal comes before the first mutation.
    pub async fn refused(&self, op: impl std::future::Future<Output = Outcome>) -> EngineFailure {
        self.fake.clear_calls();
        let f = failed(op.await);
        let mutations = self.fake.mutations();
        assert!(mutations.is_empty(), "{}: {mutations:?}", f.error);
        f
    }

    /// The progress reports so far.
    pub fn progress(&self) -> Vec<Progress> {
        self.progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// One table's statistics after a validation that found 3 mismatched rows in it.
pub fn mismatched_table(table: &str) -> TableStatistics {
    TableStatistics {
        schema_name: "public".into(),
        table_name: table.into(),
        table_state: TableState::Completed,
        full_load_rows: 10,
        inserts: 0,
        updates: 0,
        deletes: 0,
        validation_state: ValidationState::MismatchedRecords,
        validation_pending_records: 0,
        validation_failed_records: 3,
        validation_suspended_records: 0,
    }
}

/// Unwraps a reconcile result in tests with a readable panic.
pub fn ok(r: Result<Observed, Box<EngineFailure>>) -> Observed {
    match r {
        Ok(o) => o,
        Err(f) => panic!("expected success, got: {}", f.error),
    }
}

/// The identifier of the object someone else owns that the failure refused to touch;
/// panics on any other failure.
pub fn foreign_object(f: &EngineFailure) -> &str {
    match &f.error {
        super::error::EngineError::ForeignObject { id, .. } => id,
        other => panic!("expected a foreign-object refusal, got: {other}"),
    }
}

/// Asserts the failure's message says `text`.
pub fn assert_says(f: &EngineFailure, text: &str) {
    let message = f.error.to_string();
    assert!(message.contains(text), "{message}");
}

/// Unwraps a reconcile failure in tests.
pub fn failed(r: Result<Observed, Box<EngineFailure>>) -> EngineFailure {
    match r {
        Ok(o) => panic!("expected failure, got phase {}", o.phase),
        Err(f) => *f,
    }
}
