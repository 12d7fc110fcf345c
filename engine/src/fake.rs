//! An in-memory AWS for engine tests and acceptance glue: objects move through realistic
//! states on the (virtual) clock, any call can be made to fail, every call is logged.
//!
//! Status is computed lazily from a per-object timeline when an object is read, so no
//! background tasks run and paused-clock tests stay deterministic.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio::time::Instant;

use super::api::*;
use super::clock::Clock;
use super::preflight::{PreflightApi, SecretMetadata, SourceInstance};

/// One operation of [`AwsApi`], for the call log and fault injection.
#[allow(missing_docs)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Op {
    DescribeDbInstance,
    ListDbInstancesByTag,
    RestoreDbInstance,
    ModifyDbInstance,
    DeleteDbInstance,
    CreateReadReplica,
    CreateDbSnapshot,
    DescribeDbSnapshot,
    CopyDbSnapshot,
    DeleteDbSnapshot,
    DescribeKmsKey,
    CreateReplicationSubnetGroup,
    DescribeReplicationSubnetGroup,
    DeleteReplicationSubnetGroup,
    CreateReplicationInstance,
    DescribeReplicationInstance,
    DeleteReplicationInstance,
    CreateEndpoint,
    DescribeEndpoint,
    ModifyEndpoint,
    DeleteEndpoint,
    TestConnection,
    DescribeConnection,
    CreateReplicationTask,
    DescribeReplicationTask,
    ModifyReplicationTask,
    StartReplicationTask,
    StopReplicationTask,
    DeleteReplicationTask,
    DescribeTableStatistics,
    CdcLatency,
    ListTags,
    AddTags,
    StopDbInstance,
    UpsertCname,
    Route53ChangeStatus,
    DescribeCname,
    CreateBlueGreenDeployment,
    DescribeBlueGreenDeployment,
    SwitchoverBlueGreenDeployment,
    DeleteBlueGreenDeployment,
    /// `DescribeDBInstances` of the whole region (preflight's inventory).
    ListDbInstances,
    /// `DescribeDBParameters` (preflight).
    DescribeDbParameters,
    /// `DescribeSecret` (preflight).
    DescribeSecret,
    /// `ModifyDBParameterGroup` (the `read_only` write fence).
    ModifyDbParameterGroup,
    /// `CopyDBParameterGroup` (the target's own group).
    CopyDbParameterGroup,
}

impl Op {
    /// True for calls that change something (not describe/list).
    pub fn is_mutation(self) -> bool {
        !matches!(
            self,
            Op::DescribeDbInstance
                | Op::ListDbInstancesByTag
                | Op::DescribeDbSnapshot
                | Op::DescribeKmsKey
                | Op::DescribeReplicationSubnetGroup
                | Op::DescribeReplicationInstance
                | Op::DescribeEndpoint
                | Op::DescribeConnection
                | Op::DescribeReplicationTask
                | Op::DescribeTableStatistics
                | Op::CdcLatency
                | Op::ListTags
                | Op::Route53ChangeStatus
                | Op::DescribeCname
                | Op::DescribeBlueGreenDeployment
                | Op::ListDbInstances
                | Op::DescribeDbParameters
                | Op::DescribeSecret
        )
    }
}

/// One logged call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The operation.
    pub op: Op,
    /// The main identifier or ARN of the request (`StartReplicationTask`: the start type,
    /// a space, then the ARN).
    pub id: String,
    /// Virtual time since the fake was made.
    pub at: Duration,
    /// True when an injected fault answered it.
    pub failed: bool,
}

/// How long the fake's objects take in each state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTimings {
    /// Snapshot creating -> available.
    pub snapshot: Duration,
    /// Encrypted copy creating -> available.
    pub copy: Duration,
    /// Restore: creating.
    pub restore_creating: Duration,
    /// Restore: backing-up after creating.
    pub restore_backing_up: Duration,
    /// Modify: modifying -> available.
    pub modify: Duration,
    /// Instance deleting -> gone.
    pub instance_delete: Duration,
    /// Read replica creating -> available.
    pub read_replica: Duration,
    /// DMS instance creating -> available.
    pub replication_instance: Duration,
    /// DMS instance deleting -> gone.
    pub replication_instance_delete: Duration,
    /// Task creating -> ready.
    pub task_create: Duration,
    /// Task starting -> running.
    pub task_start: Duration,
    /// Full load 0 -> 100%.
    pub full_load: Duration,
    /// Task stopping -> stopped.
    pub task_stop: Duration,
    /// Task deleting -> gone.
    pub task_delete: Duration,
    /// Route 53 change PENDING -> INSYNC.
    pub route53_insync: Duration,
    /// Instance stopping -> stopped.
    pub instance_stop: Duration,
    /// How long an identifier stays reserved after its instance was renamed away (RDS
    /// refuses a rename onto it meanwhile).
    pub rename_reserved: Duration,
    /// Blue/green deployment PROVISIONING -> AVAILABLE (green instances created).
    pub blue_green_provision: Duration,
    /// Blue/green SWITCHOVER_IN_PROGRESS -> SWITCHOVER_COMPLETED.
    pub blue_green_switchover: Duration,
    /// Blue/green deployment DELETING -> gone.
    pub blue_green_delete: Duration,
    /// `ParameterApplyStatus` `applying` -> `in-sync` after an immediate parameter change.
    pub parameter_apply: Duration,
}

impl Default for FakeTimings {
    /// Rough real-world orders of magnitude, compressed.
    fn default() -> Self {
        let m = |n: u64| Duration::from_secs(n * 60);
        Self {
            snapshot: m(10),
            copy: m(20),
            restore_creating: m(15),
            restore_backing_up: m(5),
            modify: m(3),
            instance_delete: m(5),
            read_replica: m(12),
            replication_instance: m(8),
            replication_instance_delete: m(4),
            task_create: m(1),
            task_start: m(1),
            full_load: m(30),
            task_stop: m(1),
            task_delete: m(1),
            route53_insync: Duration::from_secs(40),
            instance_stop: m(4),
            rename_reserved: m(5),
            blue_green_provision: m(40),
            blue_green_switchover: m(1),
            blue_green_delete: m(1),
            parameter_apply: Duration::from_secs(20),
        }
    }
}

/// A status that changes at given instants; `None` = the object is gone.
#[derive(Debug, Clone)]
struct Timeline<S> {
    steps: Vec<(Instant, Option<S>)>,
}

impl<S: Clone> Timeline<S> {
    fn new(now: Instant, s: S) -> Self {
        Self {
            steps: vec![(now, Some(s))],
        }
    }
    /// Replaces the future with `then`, starting at `now`.
    fn set(&mut self, now: Instant, then: Vec<(Duration, Option<S>)>) {
        self.steps.retain(|(t, _)| *t <= now);
        for (d, s) in then {
            self.steps.push((now + d, s));
        }
    }
    /// Starts in `first` and turns `then` after `after` (`None`: gone).
    fn turning(now: Instant, first: S, after: Duration, then: Option<S>) -> Self {
        let mut tl = Self::new(now, first);
        tl.set(now, vec![(after, then)]);
        tl
    }
    /// From `now` in `busy`, then `then` after `after` (`None`: gone).
    fn busy(&mut self, now: Instant, busy: S, after: Duration, then: Option<S>) {
        self.set(now, vec![(Duration::ZERO, Some(busy)), (after, then)]);
    }
    fn at(&self, now: Instant) -> Option<S> {
        self.steps
            .iter()
            .rev()
            .find(|(t, _)| *t <= now)
            .and_then(|(_, s)| s.clone())
    }
    /// When the current status began.
    fn since(&self, now: Instant) -> Instant {
        self.steps
            .iter()
            .rev()
            .find(|(t, _)| *t <= now)
            .map_or(now, |(t, _)| *t)
    }
}

#[derive(Debug, Clone)]
struct Inst {
    v: DbInstance,
    tl: Timeline<DbInstanceStatus>,
}

#[derive(Debug, Clone)]
struct Snap {
    v: DbSnapshot,
    tl: Timeline<SnapshotStatus>,
    started: Instant,
    duration: Duration,
}

#[derive(Debug, Clone)]
struct Ri {
    v: ReplicationInstance,
    tl: Timeline<ReplicationInstanceStatus>,
    tags: Tags,
}

#[derive(Debug, Clone)]
struct Task {
    v: ReplicationTask,
    tl: Timeline<ReplicationTaskStatus>,
    tags: Tags,
    /// When the full load began running (after `starting`), if started fresh.
    load_started: Option<Instant>,
    /// Full load already complete before the current run (resume).
    loaded: bool,
    /// Injected failure: (after this much running time, message).
    fail_after: Option<(Duration, String)>,
}

/// A blue/green deployment: `pairs` are (blue, green) instance identifiers, primary first,
/// renamed in place at switchover as RDS does.
#[derive(Debug, Clone)]
struct Bgd {
    id: String,
    name: String,
    tags: Tags,
    tl: Timeline<BlueGreenStatus>,
    pairs: Vec<(String, String)>,
    status_details: Option<String>,
}

#[derive(Debug, Clone)]
struct Key {
    v: KmsKey,
    aliases: Vec<String>,
}

struct Fault {
    op: Op,
    /// Calls of `op` still to pass before failing.
    skip: usize,
    /// How many consecutive calls fail once triggered.
    times: usize,
    error: AwsError,
}

#[derive(Default)]
struct State {
    instances: BTreeMap<String, Inst>,
    snapshots: BTreeMap<String, Snap>,
    keys: Vec<Key>,
    subnet_groups: BTreeMap<String, (ReplicationSubnetGroup, Tags)>,
    ris: BTreeMap<String, Ri>,
    endpoints: BTreeMap<String, (Endpoint, Tags, Option<SecretString>)>,
    connections: BTreeMap<(String, String), Connection>,
    tasks: BTreeMap<String, Task>,
    table_stats: HashMap<String, Vec<TableStatistics>>,
    latency: HashMap<String, CdcLatency>,
    task_failures: HashMap<String, (Duration, String)>,
    connection_failures: HashMap<String, String>,
    calls: Vec<Call>,
    faults: Vec<Fault>,
    next_arn: u64,
    /// Hosted zone id -> (record name with trailing dot -> CNAME).
    zones: BTreeMap<String, BTreeMap<String, CnameRecord>>,
    /// Route 53 change id -> status timeline.
    changes: BTreeMap<String, Timeline<ChangeStatus>>,
    /// Identifiers renamed away -> reserved until.
    reserved: BTreeMap<String, Instant>,
    /// Blue/green deployments by identifier.
    bgds: BTreeMap<String, Bgd>,
    /// Simulates a region without `TargetResourceConfigurations`: green comes up
    /// unencrypted whatever the request says.
    bg_ignores_keys: bool,
    /// The next create (`PROVISIONING_FAILED`, `INVALID_CONFIGURATION`) or switchover
    /// (`SWITCHOVER_FAILED`) ends in this status with these details.
    bg_failure: Option<(BlueGreenStatus, String)>,
    /// DB parameter groups: name -> parameter values (engine defaults included).
    parameters: BTreeMap<String, BTreeMap<String, String>>,
    /// Secrets Manager secrets by name or ARN.
    secrets: BTreeMap<String, SecretMetadata>,
    /// `ParameterApplyStatus` by instance (absent: `in-sync`).
    apply_status: BTreeMap<String, String>,
    /// Tags of the DB parameter groups the engine copied.
    parameter_group_tags: BTreeMap<String, Tags>,
    /// DB parameter group -> until when its instances show `applying` (an immediate change).
    applying_until: BTreeMap<String, Instant>,
    /// When set, every call fails with this error.
    fail_every_call: Option<AwsError>,
}

/// The in-memory AWS. Cheap to clone (shared state).
#[derive(Clone)]
pub struct FakeAws {
    clock: Arc<dyn Clock>,
    start: Instant,
    timings: Arc<FakeTimings>,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for FakeAws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAws").finish_non_exhaustive()
    }
}

const REGION_ACCOUNT: &str = "us-east-1:123456789012";

/// DMS's fault for a create whose identifier is taken.
const DMS_EXISTS: &str = "ResourceAlreadyExistsFault";

/// The start of the CloudWatch period holding `t` (periods are aligned to the epoch).
fn period_start(t: SystemTime, period: Duration) -> SystemTime {
    let p = period.as_secs().max(1);
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs - secs % p)
}

fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.').to_ascii_lowercase())
}

fn not_found(kind: &'static str, id: &str) -> AwsError {
    AwsError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

fn exists(code: &str, id: &str) -> AwsError {
    AwsError::AlreadyExists {
        code: code.to_owned(),
        message: format!("{id} already exists"),
    }
}

fn invalid(code: &str, message: String) -> AwsError {
    AwsError::InvalidState {
        code: code.to_owned(),
        message,
    }
}

/// Refuses with `error` when `refused`: the guard every call makes before it changes
/// anything.
fn refuse_if(refused: bool, error: impl FnOnce() -> AwsError) -> Result<(), AwsError> {
    if refused { Err(error()) } else { Ok(()) }
}

/// DMS's fault for an object in a state the call cannot act on.
fn dms_busy(message: String) -> AwsError {
    invalid("InvalidResourceStateFault", message)
}

/// The identifier an ARN ends with (RDS takes either in its snapshot and source fields).
fn last_segment(arn: &str) -> String {
    arn.rsplit(':').next().unwrap_or_default().to_owned()
}

/// The ARN `which` names among DMS `objects` (keyed by ARN), found by ARN or identifier.
fn dms_arn<T>(
    objects: &BTreeMap<String, T>,
    which: &DmsRef,
    identifier: impl Fn(&T) -> &String,
) -> Option<String> {
    match which {
        DmsRef::Arn(a) => objects.contains_key(a).then(|| a.clone()),
        DmsRef::Id(id) => objects
            .iter()
            .find(|(_, o)| identifier(o) == id)
            .map(|(arn, _)| arn.clone()),
    }
}

impl FakeAws {
    /// An empty fake with default timings.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::with_timings(clock, FakeTimings::default())
    }

    /// An empty fake with the given timings.
    pub fn with_timings(clock: Arc<dyn Clock>, timings: FakeTimings) -> Self {
        Self {
            start: clock.now(),
            clock,
            timings: Arc::new(timings),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a failing test; keep going.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn now(&self) -> Instant {
        self.clock.now()
    }

    /// The opening of every call: [`FakeAws::enter`], then the state, locked.
    fn open(&self, op: Op, id: &str) -> Result<MutexGuard<'_, State>, AwsError> {
        self.enter(op, id)?;
        Ok(self.lock())
    }

    /// [`FakeAws::open`] for calls that change the timelines: also the time of the call.
    fn open_at(&self, op: Op, id: &str) -> Result<(Instant, MutexGuard<'_, State>), AwsError> {
        self.enter(op, id)?;
        let now = self.now();
        Ok((now, self.lock()))
    }

    /// [`FakeAws::open_at`] for a create: refuses an `id` already taken, as AWS does, in
    /// the list the operation creates into.
    fn open_new(&self, op: Op, id: &str) -> Result<(Instant, MutexGuard<'_, State>), AwsError> {
        let (now, mut st) = self.open_at(op, id)?;
        let dms = DmsRef::Id(id.to_owned());
        let (taken, code) = match op {
            Op::RestoreDbInstance | Op::CreateReadReplica => (
                self.instance_view(&mut st, id).is_some(),
                "DBInstanceAlreadyExists",
            ),
            Op::CreateDbSnapshot => (
                self.snapshot_view(&mut st, id).is_some(),
                "DBSnapshotAlreadyExists",
            ),
            Op::CreateReplicationSubnetGroup => (st.subnet_groups.contains_key(id), DMS_EXISTS),
            Op::CreateReplicationInstance => (self.ri_view(&mut st, &dms).is_some(), DMS_EXISTS),
            Op::CreateEndpoint => (Self::endpoint_arn(&st, &dms).is_some(), DMS_EXISTS),
            Op::CreateReplicationTask => (self.task_view(&mut st, &dms).is_some(), DMS_EXISTS),
            // Other operations create nothing under `id`.
            _ => (false, ""),
        };
        refuse_if(taken, || exists(code, id))?;
        Ok((now, st))
    }

    /// Logs the call and applies any injected fault.
    fn enter(&self, op: Op, id: &str) -> Result<(), AwsError> {
        let at = self.now().saturating_duration_since(self.start);
        let mut st = self.lock();
        let mut failure = st.fail_every_call.clone();
        let fault = st.faults.iter().position(|f| f.op == op);
        if let (None, Some(i)) = (&failure, fault) {
            let f = &mut st.faults[i];
            if f.skip > 0 {
                f.skip -= 1;
            } else {
                failure = Some(f.error.clone());
                f.times -= 1;
                if f.times == 0 {
                    st.faults.remove(i);
                }
            }
        }
        st.calls.push(Call {
            op,
            id: id.to_owned(),
            at,
            failed: failure.is_some(),
        });
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn arn(&self, st: &mut State, service: &str, kind: &str) -> String {
        st.next_arn += 1;
        format!(
            "arn:aws:{service}:{REGION_ACCOUNT}:{kind}:{}{:06}",
            kind.to_ascii_uppercase(),
            st.next_arn
        )
    }

    // ----- seeding and inspection -----

    /// Adds an instance (e.g. the source), `available`. Missing ARN/endpoint are filled in.
    pub fn add_instance(&self, mut v: DbInstance) {
        let now = self.now();
        if v.arn.is_empty() {
            v.arn = format!("arn:aws:rds:{REGION_ACCOUNT}:db:{}", v.identifier);
        }
        if v.endpoint.is_none() {
            v.endpoint = Some(HostPort {
                address: format!("{}.fake.us-east-1.rds.amazonaws.com", v.identifier),
                port: v.port.unwrap_or(5432),
            });
        }
        let status = if matches!(v.status, DbInstanceStatus::Other(ref s) if s.is_empty()) {
            DbInstanceStatus::Available
        } else {
            v.status.clone()
        };
        let tl = Timeline::new(now, status);
        self.lock()
            .instances
            .insert(v.identifier.clone(), Inst { v, tl });
    }

    /// Adds a finished snapshot (an interrupted apply's leftovers).
    pub fn add_snapshot(&self, mut v: DbSnapshot) {
        let now = self.now();
        if v.arn.is_empty() {
            v.arn = format!("arn:aws:rds:{REGION_ACCOUNT}:snapshot:{}", v.identifier);
        }
        v.percent_progress = 100;
        let s = Snap {
            tl: Timeline::new(now, SnapshotStatus::Available),
            v,
            started: now,
            duration: Duration::ZERO,
        };
        self.lock().snapshots.insert(s.v.identifier.clone(), s);
    }

    /// Adds an enabled symmetric customer key with the given aliases (`alias/x`). Returns
    /// its ARN.
    pub fn add_kms_key(&self, aliases: &[&str]) -> String {
        let mut st = self.lock();
        st.next_arn += 1;
        let key_id = format!("1234abcd-0000-0000-0000-{:012}", st.next_arn);
        let arn = format!("arn:aws:kms:{REGION_ACCOUNT}:key/{key_id}");
        st.keys.push(Key {
            v: KmsKey {
                key_id,
                arn: arn.clone(),
                state: KmsKeyState::Enabled,
                usage: KmsKeyUsage::EncryptDecrypt,
                spec: KmsKeySpec::SymmetricDefault,
                manager: KmsKeyManager::Customer,
                multi_region: false,
            },
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
        });
        arn
    }

    /// Adds `key` as is, found by its id, its ARN and each of `lookups` (aliases, or any
    /// other text a test looks it up by).
    pub fn add_kms_key_as(&self, key: KmsKey, lookups: &[&str]) {
        self.lock().keys.push(Key {
            v: key,
            aliases: lookups.iter().map(|a| (*a).to_owned()).collect(),
        });
    }

    /// Adds a replication instance (`available` unless it says otherwise).
    pub fn add_replication_instance(&self, v: ReplicationInstance) {
        let tl = Timeline::new(self.now(), v.status.clone());
        let ri = Ri {
            v,
            tl,
            tags: Tags::new(),
        };
        self.lock().ris.insert(ri.v.arn.clone(), ri);
    }

    /// Adds a replication subnet group.
    pub fn add_replication_subnet_group(&self, g: ReplicationSubnetGroup) {
        let id = g.identifier.clone();
        self.lock().subnet_groups.insert(id, (g, Tags::new()));
    }

    /// Sets the values of DB parameter group `group` (creating it).
    pub fn set_db_parameters(&self, group: &str, values: BTreeMap<String, String>) {
        self.lock().parameters.insert(group.to_owned(), values);
    }

    /// The tags of a DB parameter group made by `CopyDBParameterGroup`.
    pub fn parameter_group_tags(&self, group: &str) -> Option<Tags> {
        self.lock().parameter_group_tags.get(group).cloned()
    }

    /// Adds a Secrets Manager secret, found by `lookup` (its name or ARN).
    pub fn add_secret(&self, lookup: &str, secret: SecretMetadata) {
        self.lock().secrets.insert(lookup.to_owned(), secret);
    }

    /// Sets an instance's `ParameterApplyStatus`.
    pub fn set_parameter_apply_status(&self, identifier: &str, status: &str) {
        self.lock()
            .apply_status
            .insert(identifier.to_owned(), status.to_owned());
    }

    /// Makes every call from now on fail with `error`.
    pub fn fail_every_call(&self, error: AwsError) {
        self.lock().fail_every_call = Some(error);
    }

    /// Changes a key's state (e.g. `Disabled`).
    pub fn set_kms_key_state(&self, arn: &str, state: KmsKeyState) {
        for k in self.lock().keys.iter_mut().filter(|k| k.v.arn == arn) {
            k.v.state = state.clone();
        }
    }

    /// Fails calls of `op`: the first `skip` calls pass, then `times` calls fail with `error`.
    pub fn fail(&self, op: Op, skip: usize, times: usize, error: AwsError) {
        if times > 0 {
            self.lock().faults.push(Fault {
                op,
                skip,
                times,
                error,
            });
        }
    }

    /// Makes the task `identifier` (existing or created later) fail once it has been
    /// running for `after`, with DMS's `LastFailureMessage` = `message`.
    pub fn fail_task_after(&self, identifier: &str, after: Duration, message: &str) {
        let mut st = self.lock();
        st.task_failures
            .insert(identifier.to_owned(), (after, message.to_owned()));
        for t in st.tasks.values_mut() {
            if t.v.identifier == identifier {
                t.fail_after = Some((after, message.to_owned()));
            }
        }
    }

    /// Puts the task `identifier` in `status` from now on (a fault, or a stop by hand).
    pub fn force_task_status(&self, identifier: &str, status: ReplicationTaskStatus) {
        let now = self.now();
        for t in self.lock().tasks.values_mut() {
            if t.v.identifier == identifier {
                t.tl.set(now, vec![(Duration::ZERO, Some(status.clone()))]);
            }
        }
    }

    /// Makes connection tests of the endpoint `identifier` fail with DMS's message.
    pub fn fail_connection(&self, endpoint_identifier: &str, message: &str) {
        self.lock()
            .connection_failures
            .insert(endpoint_identifier.to_owned(), message.to_owned());
    }

    /// Sets the table statistics returned for the task with this identifier.
    pub fn set_table_stats(&self, task_identifier: &str, stats: Vec<TableStatistics>) {
        self.lock()
            .table_stats
            .insert(task_identifier.to_owned(), stats);
    }

    /// Sets the CDC latency returned for the task with this identifier. A side with a value
    /// and no time is published every period (each read returns the newest period's
    /// datapoint); a side with a time is that one datapoint, never newer (metrics delayed).
    pub fn set_cdc_latency(&self, task_identifier: &str, latency: CdcLatency) {
        self.lock()
            .latency
            .insert(task_identifier.to_owned(), latency);
    }

    /// AWS's wall clock (the fake's clock): what CloudWatch datapoints are stamped with.
    pub fn wall_time(&self) -> SystemTime {
        self.clock.wall_time()
    }

    /// Every call so far.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// The calls that change something, in order.
    pub fn mutations(&self) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.op.is_mutation())
            .collect()
    }

    /// How many calls of `op` were made.
    pub fn count(&self, op: Op) -> usize {
        self.lock().calls.iter().filter(|c| c.op == op).count()
    }

    /// Forgets the call log.
    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    /// True when an instance with this identifier exists (not yet gone).
    pub fn has_instance(&self, id: &str) -> bool {
        self.instance(id).is_some()
    }

    /// True when a snapshot with this identifier exists.
    pub fn has_snapshot(&self, id: &str) -> bool {
        let mut st = self.lock();
        self.snapshot_view(&mut st, id).is_some()
    }

    /// Identifiers of every DMS object that exists (instances, endpoints, tasks, subnet
    /// groups).
    pub fn dms_objects(&self) -> Vec<String> {
        let now = self.now();
        let st = self.lock();
        let mut v: Vec<String> = st.subnet_groups.keys().cloned().collect();
        v.extend(
            st.ris
                .values()
                .filter(|r| r.tl.at(now).is_some())
                .map(|r| r.v.identifier.clone()),
        );
        v.extend(st.endpoints.values().map(|e| e.0.identifier.clone()));
        v.extend(
            st.tasks
                .values()
                .filter(|t| t.tl.at(now).is_some())
                .map(|t| t.v.identifier.clone()),
        );
        v
    }

    /// The password last given to the endpoint with this identifier (to test rotation).
    pub fn endpoint_password(&self, identifier: &str) -> Option<String> {
        self.lock()
            .endpoints
            .values()
            .find(|e| e.0.identifier == identifier)
            .and_then(|e| e.2.as_ref().map(|s| s.expose().to_owned()))
    }

    /// Adds an empty hosted zone.
    pub fn add_hosted_zone(&self, zone_id: &str) {
        self.lock()
            .zones
            .insert(zone_id.to_owned(), BTreeMap::new());
    }

    /// The CNAME value of `name` in `zone_id`, if any.
    pub fn cname(&self, zone_id: &str, name: &str) -> Option<String> {
        self.lock()
            .zones
            .get(zone_id)
            .and_then(|z| z.get(&fqdn(name)))
            .map(|r| r.value.clone())
    }

    /// Sets a CNAME directly (the application's record before any cutover).
    pub fn set_cname(&self, zone_id: &str, name: &str, value: &str) {
        self.lock()
            .zones
            .entry(zone_id.to_owned())
            .or_default()
            .insert(
                fqdn(name),
                CnameRecord {
                    value: value.to_owned(),
                    ttl: Some(300),
                },
            );
    }

    /// The instance's identifier, status and security groups right now.
    pub fn instance(&self, id: &str) -> Option<DbInstance> {
        let mut st = self.lock();
        self.instance_view(&mut st, id)
    }

    /// Makes green instances come up unencrypted whatever the request asks (a region or
    /// engine where RDS ignores `TargetResourceConfigurations`).
    pub fn set_blue_green_ignores_keys(&self, on: bool) {
        self.lock().bg_ignores_keys = on;
    }

    /// Makes the next blue/green create (status `PROVISIONING_FAILED` or
    /// `INVALID_CONFIGURATION`) or switchover (`SWITCHOVER_FAILED`, rolled back: no
    /// renames) end in `status` with `details` as `StatusDetails`.
    pub fn fail_blue_green(&self, status: BlueGreenStatus, details: &str) {
        self.lock().bg_failure = Some((status, details.to_owned()));
    }

    /// Every blue/green deployment that exists, as described.
    pub fn blue_green_deployments(&self) -> Vec<BlueGreenDeployment> {
        let mut st = self.lock();
        let ids: Vec<String> = st.bgds.keys().cloned().collect();
        ids.iter()
            .filter_map(|id| self.bgd_view(&mut st, id))
            .collect()
    }

    /// Every task identifier with its status and CDC start position.
    pub fn tasks(&self) -> Vec<ReplicationTask> {
        let mut st = self.lock();
        let arns: Vec<String> = st.tasks.keys().cloned().collect();
        arns.into_iter()
            .filter_map(|a| self.task_view(&mut st, &DmsRef::Arn(a)))
            .collect()
    }

    /// The current view of an instance (status applied).
    fn instance_view(&self, st: &mut State, id: &str) -> Option<DbInstance> {
        let now = self.now();
        let inst = st.instances.get(id)?;
        match inst.tl.at(now) {
            Some(s) => {
                let mut v = inst.v.clone();
                v.status = s;
                let applying = v
                    .db_parameter_group_name
                    .as_ref()
                    .and_then(|g| st.applying_until.get(g))
                    .is_some_and(|until| now < *until);
                v.parameter_apply_status = Some(if applying {
                    "applying".to_owned()
                } else {
                    st.apply_status
                        .get(id)
                        .cloned()
                        .unwrap_or_else(|| "in-sync".to_owned())
                });
                Some(v)
            }
            None => {
                st.instances.remove(id);
                None
            }
        }
    }

    /// The instance `id`, refused unless `allowed` admits its status.
    fn instance_when(
        &self,
        st: &mut State,
        id: &str,
        allowed: impl FnOnce(&DbInstanceStatus) -> bool,
    ) -> Result<DbInstance, AwsError> {
        let inst = self
            .instance_view(st, id)
            .ok_or_else(|| not_found("RDS DB Instance", id))?;
        refuse_if(!allowed(&inst.status), || {
            invalid(
                "InvalidDBInstanceState",
                format!("instance {id} is {}", inst.status),
            )
        })?;
        Ok(inst)
    }

    fn bgd_view(&self, st: &mut State, id: &str) -> Option<BlueGreenDeployment> {
        let now = self.now();
        let d = st.bgds.get(id)?;
        let Some(status) = d.tl.at(now) else {
            st.bgds.remove(id);
            return None;
        };
        let d = d.clone();
        let arn = |st: &mut State, id: &str| {
            self.instance_view(st, id).map_or_else(
                || format!("arn:aws:rds:{REGION_ACCOUNT}:db:{id}"),
                |i| i.arn,
            )
        };
        let mut details = Vec::new();
        for (blue, green) in &d.pairs {
            details.push(SwitchoverDetail {
                source_member: arn(st, blue),
                target_member: arn(st, green),
                status: status.as_str().to_owned(),
            });
        }
        Some(BlueGreenDeployment {
            identifier: d.id.clone(),
            name: d.name.clone(),
            source_arn: details
                .first()
                .map(|x| x.source_member.clone())
                .unwrap_or_default(),
            target_arn: details
                .first()
                .map(|x| x.target_member.clone())
                .unwrap_or_default(),
            status,
            status_details: d.status_details.clone(),
            switchover_details: details,
            tags: d.tags.clone(),
        })
    }

    /// Renames an instance and every reference to it (replica links), as RDS does at a
    /// blue/green switchover. The endpoint follows the name.
    fn rename_instance(st: &mut State, from: &str, to: &str) {
        if let Some(mut inst) = st.instances.remove(from) {
            inst.v.identifier = to.to_owned();
            inst.v.arn = format!("arn:aws:rds:{REGION_ACCOUNT}:db:{to}");
            if let Some(ep) = &mut inst.v.endpoint {
                ep.address = ep.address.replacen(from, to, 1);
            }
            st.instances.insert(to.to_owned(), inst);
        }
        for i in st.instances.values_mut() {
            if i.v.read_replica_source.as_deref() == Some(from) {
                i.v.read_replica_source = Some(to.to_owned());
            }
            for r in &mut i.v.read_replica_identifiers {
                if r == from {
                    *r = to.to_owned();
                }
            }
        }
    }

    /// The snapshot `id`, refused unless `available` (restore and copy read from it).
    fn available_snapshot(&self, st: &mut State, id: &str) -> Result<DbSnapshot, AwsError> {
        let snap = self
            .snapshot_view(st, id)
            .ok_or_else(|| not_found("RDS DB Snapshot", id))?;
        refuse_if(snap.status != SnapshotStatus::Available, || {
            invalid(
                "InvalidDBSnapshotState",
                format!("snapshot {id} is {}", snap.status),
            )
        })?;
        Ok(snap)
    }

    fn snapshot_view(&self, st: &mut State, id: &str) -> Option<DbSnapshot> {
        let now = self.now();
        let s = st.snapshots.get(id)?;
        match s.tl.at(now) {
            Some(status) => {
                let mut v = s.v.clone();
                v.percent_progress = if status == SnapshotStatus::Available {
                    100
                } else if s.duration.is_zero() {
                    0
                } else {
                    let done = now.saturating_duration_since(s.started).as_secs_f64()
                        / s.duration.as_secs_f64();
                    (done * 100.0).clamp(0.0, 99.0) as i32
                };
                v.status = status;
                Some(v)
            }
            None => {
                st.snapshots.remove(id);
                None
            }
        }
    }

    fn ri_view(&self, st: &mut State, which: &DmsRef) -> Option<(String, ReplicationInstance)> {
        let now = self.now();
        let arn = dms_arn(&st.ris, which, |r| &r.v.identifier)?;
        let r = st.ris.get(&arn)?;
        match r.tl.at(now) {
            Some(s) => {
                let mut v = r.v.clone();
                v.status = s;
                Some((arn, v))
            }
            None => {
                st.ris.remove(&arn);
                None
            }
        }
    }

    fn endpoint_arn(st: &State, which: &DmsRef) -> Option<String> {
        dms_arn(&st.endpoints, which, |e| &e.0.identifier)
    }

    fn task_view(&self, st: &mut State, which: &DmsRef) -> Option<ReplicationTask> {
        let now = self.now();
        let arn = dms_arn(&st.tasks, which, |t| &t.v.identifier)?;
        let t = st.tasks.get_mut(&arn)?;
        // An injected failure fires once the task has been running long enough.
        if let (Some((after, msg)), Some(ReplicationTaskStatus::Running)) =
            (t.fail_after.clone(), t.tl.at(now))
        {
            let running_since = t.tl.since(now);
            if now >= running_since + after {
                t.tl.set(
                    running_since + after,
                    vec![(Duration::ZERO, Some(ReplicationTaskStatus::Failed))],
                );
                t.v.last_failure_message = Some(msg);
                t.v.stop_reason = Some("Stop Reason RECOVERABLE_ERROR".into());
                t.fail_after = None;
            }
        }
        let Some(status) = t.tl.at(now) else {
            st.tasks.remove(&arn);
            return None;
        };
        let mut v = t.v.clone();
        let percent = if t.loaded {
            100
        } else {
            match t.load_started {
                Some(s) if now >= s => {
                    let d = self.timings.full_load.as_secs_f64().max(1e-9);
                    ((now - s).as_secs_f64() / d * 100.0).clamp(0.0, 100.0) as i32
                }
                _ => 0,
            }
        };
        if percent >= 100 && !t.loaded && status == ReplicationTaskStatus::Running {
            t.loaded = true;
        }
        if t.load_started.is_some() || t.loaded {
            v.stats = Some(ReplicationTaskStats {
                full_load_progress_percent: percent,
                tables_loaded: i32::from(percent >= 100),
                tables_loading: i32::from(percent < 100),
                tables_queued: 0,
                // DMS counts the tables in `Table error` (suspended) here.
                tables_errored: st.table_stats.get(&t.v.identifier).map_or(0, |ts| {
                    ts.iter()
                        .filter(|x| x.table_state == TableState::Error)
                        .count() as i32
                }),
                elapsed_time_millis: t
                    .load_started
                    .map_or(0, |s| now.saturating_duration_since(s).as_millis() as i64),
                full_load_finish: None,
            });
        }
        v.status = status;
        Some(v)
    }

    /// The task `arn` for a call that `allowed` admits in its current status (returned
    /// with it), refused with DMS's fault otherwise; `why` ends the refusal's message.
    fn task_when<'a>(
        &self,
        st: &'a mut State,
        arn: &str,
        allowed: impl FnOnce(&ReplicationTaskStatus) -> bool,
        why: &str,
    ) -> Result<(ReplicationTaskStatus, &'a mut Task), AwsError> {
        let gone = || not_found("DMS Replication Task", arn);
        let cur = self
            .task_view(st, &DmsRef::Arn(arn.to_owned()))
            .ok_or_else(gone)?;
        refuse_if(!allowed(&cur.status), || {
            dms_busy(format!("task {} is {}{why}", cur.identifier, cur.status))
        })?;
        let task = st.tasks.get_mut(arn).ok_or_else(gone)?;
        Ok((cur.status, task))
    }

    fn tags_of(&self, st: &mut State, arn: &str) -> Option<Tags> {
        if let Some(i) = st.instances.values().find(|i| i.v.arn == arn) {
            return Some(i.v.tags.clone());
        }
        if let Some(s) = st.snapshots.values().find(|s| s.v.arn == arn) {
            return Some(s.v.tags.clone());
        }
        if let Some(r) = st.ris.get(arn) {
            return Some(r.tags.clone());
        }
        if let Some(e) = st.endpoints.get(arn) {
            return Some(e.1.clone());
        }
        if let Some(t) = st.tasks.get(arn) {
            return Some(t.tags.clone());
        }
        st.subnet_groups
            .values()
            .find(|g| arn.ends_with(&format!(":subgrp:{}", g.0.identifier)))
            .map(|g| g.1.clone())
    }
}

#[async_trait]
impl AwsApi for FakeAws {
    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        let mut st = self.open(Op::DescribeDbInstance, identifier)?;
        self.instance_view(&mut st, identifier)
            .ok_or_else(|| not_found("RDS DB Instance", identifier))
    }

    async fn describe_db_parameter(
        &self,
        group: &str,
        name: &str,
    ) -> Result<Option<String>, AwsError> {
        let st = self.open(Op::DescribeDbParameters, group)?;
        let all = st
            .parameters
            .get(group)
            .ok_or_else(|| not_found("RDS DB Parameter Group", group))?;
        Ok(all.get(name).cloned())
    }

    async fn modify_db_parameter(&self, input: &ModifyDbParameterInput) -> Result<(), AwsError> {
        let (now, mut st) = self.open_at(Op::ModifyDbParameterGroup, &input.group)?;
        // AWS: "You can't modify the parameter settings of a default DB parameter group."
        refuse_if(input.group.starts_with("default."), || AwsError::Service {
            code: "InvalidParameterValue".to_owned(),
            message: format!(
                "cannot modify the default DB parameter group {}",
                input.group
            ),
            status: Some(400),
        })?;
        let all = st
            .parameters
            .get_mut(&input.group)
            .ok_or_else(|| not_found("RDS DB Parameter Group", &input.group))?;
        all.insert(input.name.clone(), input.value.clone());
        st.applying_until
            .insert(input.group.clone(), now + self.timings.parameter_apply);
        Ok(())
    }

    async fn copy_db_parameter_group(
        &self,
        input: &CopyDbParameterGroupInput,
    ) -> Result<(), AwsError> {
        let mut st = self.open(Op::CopyDbParameterGroup, &input.target_group)?;
        refuse_if(st.parameters.contains_key(&input.target_group), || {
            exists("DBParameterGroupAlreadyExists", &input.target_group)
        })?;
        // Default groups hold the engine defaults, which the fake does not list.
        let values = match st.parameters.get(&input.source_group) {
            Some(v) => v.clone(),
            None if input.source_group.starts_with("default.") => BTreeMap::new(),
            None => return Err(not_found("RDS DB Parameter Group", &input.source_group)),
        };
        st.parameters.insert(input.target_group.clone(), values);
        st.parameter_group_tags
            .insert(input.target_group.clone(), input.tags.clone());
        Ok(())
    }

    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError> {
        let mut st = self.open(Op::ListDbInstances, "")?;
        let ids: Vec<String> = st.instances.keys().cloned().collect();
        Ok(ids
            .iter()
            .filter_map(|id| self.instance_view(&mut st, id))
            .collect())
    }

    async fn list_db_instances_by_tag(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Vec<DbInstance>, AwsError> {
        let mut st = self.open(Op::ListDbInstancesByTag, &format!("{key}={value}"))?;
        let ids: Vec<String> = st.instances.keys().cloned().collect();
        Ok(ids
            .iter()
            .filter_map(|id| self.instance_view(&mut st, id))
            .filter(|i| i.tags.get(key).is_some_and(|v| v == value))
            .collect())
    }

    async fn restore_db_instance_from_snapshot(
        &self,
        input: &RestoreDbInstanceInput,
    ) -> Result<DbInstance, AwsError> {
        let (now, mut st) = self.open_new(Op::RestoreDbInstance, &input.db_instance_identifier)?;
        let snap_id = last_segment(&input.db_snapshot_identifier);
        let snap = self.available_snapshot(&mut st, &snap_id)?;
        let id = input.db_instance_identifier.clone();
        let port = input.port.unwrap_or(5432);
        let v = DbInstance {
            identifier: id.clone(),
            arn: format!("arn:aws:rds:{REGION_ACCOUNT}:db:{id}"),
            status: DbInstanceStatus::Creating,
            engine: snap.engine.clone(),
            engine_version: snap.engine_version.clone(),
            instance_class: input
                .instance_class
                .clone()
                .unwrap_or_else(|| "db.t3.micro".into()),
            allocated_storage: input.allocated_storage.unwrap_or(snap.allocated_storage),
            storage_type: input.storage_type.clone(),
            iops: input.iops,
            storage_throughput: input.storage_throughput,
            storage_encrypted: snap.encrypted,
            kms_key_id: snap.kms_key_id.clone(),
            endpoint: Some(HostPort {
                address: format!("{id}.fake.us-east-1.rds.amazonaws.com"),
                port,
            }),
            port: Some(port),
            multi_az: input.multi_az,
            availability_zone: input.availability_zone.clone(),
            publicly_accessible: input.publicly_accessible,
            deletion_protection: input.deletion_protection,
            copy_tags_to_snapshot: input.copy_tags_to_snapshot,
            auto_minor_version_upgrade: input.auto_minor_version_upgrade,
            iam_database_authentication_enabled: input.iam_database_authentication_enabled,
            db_parameter_group_name: input.db_parameter_group_name.clone(),
            option_group_name: input.option_group_name.clone(),
            db_subnet_group: input
                .db_subnet_group_name
                .clone()
                .map(|name| DbSubnetGroupInfo {
                    name,
                    ..Default::default()
                }),
            vpc_security_group_ids: input.vpc_security_group_ids.clone(),
            ca_certificate_identifier: input.ca_certificate_identifier.clone(),
            enabled_cloudwatch_logs_exports: input.enabled_cloudwatch_logs_exports.clone(),
            // Restores come up with AWS defaults for what restore cannot set.
            backup_retention_period: 1,
            tags: input.tags.clone(),
            ..Default::default()
        };
        let mut tl = Timeline::new(now, DbInstanceStatus::Creating);
        let t = &self.timings;
        tl.set(
            now,
            vec![
                (t.restore_creating, Some(DbInstanceStatus::BackingUp)),
                (
                    t.restore_creating + t.restore_backing_up,
                    Some(DbInstanceStatus::Available),
                ),
            ],
        );
        st.instances.insert(id, Inst { v: v.clone(), tl });
        Ok(v)
    }

    async fn modify_db_instance(
        &self,
        input: &ModifyDbInstanceInput,
    ) -> Result<DbInstance, AwsError> {
        let (now, mut st) = self.open_at(Op::ModifyDbInstance, &input.db_instance_identifier)?;
        self.instance_when(
            &mut st,
            &input.db_instance_identifier,
            DbInstanceStatus::is_ready,
        )?;
        if let Some(new) = &input.new_db_instance_identifier
            && (self.instance_view(&mut st, new).is_some()
                || st.reserved.get(new).is_some_and(|until| now < *until))
        {
            return Err(exists("DBInstanceAlreadyExists", new));
        }
        let Some(mut inst) = st.instances.remove(&input.db_instance_identifier) else {
            return Err(not_found("RDS DB Instance", &input.db_instance_identifier));
        };
        let v = &mut inst.v;
        if let Some(x) = input.backup_retention_period {
            v.backup_retention_period = x;
        }
        if let Some(x) = input.monitoring_interval {
            v.monitoring_interval = x;
        }
        if let Some(x) = &input.monitoring_role_arn {
            v.monitoring_role_arn = Some(x.clone());
        }
        if let Some(x) = &input.performance_insights {
            v.performance_insights = x.clone();
        }
        if let Some(x) = input.deletion_protection {
            v.deletion_protection = x;
        }
        if let Some(x) = &input.preferred_backup_window {
            v.preferred_backup_window = Some(x.clone());
        }
        if let Some(x) = &input.preferred_maintenance_window {
            v.preferred_maintenance_window = Some(x.clone());
        }
        if let Some(x) = input.max_allocated_storage {
            v.max_allocated_storage = Some(x);
        }
        if let Some(x) = &input.vpc_security_group_ids {
            v.vpc_security_group_ids = x.clone();
        }
        if let Some(new) = &input.new_db_instance_identifier {
            st.reserved.insert(
                input.db_instance_identifier.clone(),
                now + self.timings.rename_reserved,
            );
            // The endpoint names the instance, as on AWS.
            if let Some(ep) = &mut v.endpoint {
                ep.address = ep.address.replacen(&input.db_instance_identifier, new, 1);
            }
            v.identifier = new.clone();
            v.arn = format!("arn:aws:rds:{REGION_ACCOUNT}:db:{new}");
        }
        let busy = if input.new_db_instance_identifier.is_some() {
            DbInstanceStatus::Renaming
        } else {
            DbInstanceStatus::Modifying
        };
        inst.tl.busy(
            now,
            busy.clone(),
            self.timings.modify,
            Some(DbInstanceStatus::Available),
        );
        let mut out = inst.v.clone();
        out.status = busy;
        st.instances.insert(inst.v.identifier.clone(), inst);
        Ok(out)
    }

    async fn delete_db_instance(&self, input: &DeleteDbInstanceInput) -> Result<(), AwsError> {
        let (now, mut st) = self.open_at(Op::DeleteDbInstance, &input.db_instance_identifier)?;
        let cur = self
            .instance_view(&mut st, &input.db_instance_identifier)
            .ok_or_else(|| not_found("RDS DB Instance", &input.db_instance_identifier))?;
        if cur.deletion_protection {
            return Err(AwsError::Service {
                code: "InvalidParameterCombination".into(),
                message: "Cannot delete protected DB Instance".into(),
                status: Some(400),
            });
        }
        refuse_if(cur.status == DbInstanceStatus::Deleting, || {
            invalid("InvalidDBInstanceState", "already deleting".into())
        })?;
        if let FinalSnapshot::Take(snap_id) = &input.final_snapshot {
            refuse_if(st.snapshots.contains_key(snap_id), || {
                exists("DBSnapshotAlreadyExists", snap_id)
            })?;
            let v = DbSnapshot {
                identifier: snap_id.clone(),
                arn: format!("arn:aws:rds:{REGION_ACCOUNT}:snapshot:{snap_id}"),
                db_instance_identifier: cur.identifier.clone(),
                status: SnapshotStatus::Available,
                percent_progress: 100,
                engine: cur.engine.clone(),
                allocated_storage: cur.allocated_storage,
                encrypted: cur.storage_encrypted,
                kms_key_id: cur.kms_key_id.clone(),
                tags: cur.tags.clone(),
                ..Default::default()
            };
            st.snapshots.insert(
                snap_id.clone(),
                Snap {
                    v,
                    tl: Timeline::new(now, SnapshotStatus::Available),
                    started: now,
                    duration: Duration::ZERO,
                },
            );
        }
        if let Some(inst) = st.instances.get_mut(&input.db_instance_identifier) {
            inst.tl.busy(
                now,
                DbInstanceStatus::Deleting,
                self.timings.instance_delete,
                None,
            );
        }
        Ok(())
    }

    async fn stop_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        let (now, mut st) = self.open_at(Op::StopDbInstance, identifier)?;
        let available = |s: &DbInstanceStatus| *s == DbInstanceStatus::Available;
        let cur = self.instance_when(&mut st, identifier, available)?;
        if let Some(inst) = st.instances.get_mut(identifier) {
            inst.tl.busy(
                now,
                DbInstanceStatus::Stopping,
                self.timings.instance_stop,
                Some(DbInstanceStatus::Stopped),
            );
        }
        let mut out = cur;
        out.status = DbInstanceStatus::Stopping;
        Ok(out)
    }

    async fn create_read_replica(
        &self,
        input: &CreateReadReplicaInput,
    ) -> Result<DbInstance, AwsError> {
        let (now, mut st) = self.open_new(Op::CreateReadReplica, &input.db_instance_identifier)?;
        let src = self
            .instance_view(&mut st, &input.source_db_instance_identifier)
            .ok_or_else(|| not_found("RDS DB Instance", &input.source_db_instance_identifier))?;
        let id = input.db_instance_identifier.clone();
        let port = src.port.unwrap_or(5432);
        let v = DbInstance {
            identifier: id.clone(),
            arn: format!("arn:aws:rds:{REGION_ACCOUNT}:db:{id}"),
            status: DbInstanceStatus::Creating,
            endpoint: Some(HostPort {
                address: format!("{id}.fake.us-east-1.rds.amazonaws.com"),
                port,
            }),
            read_replica_source: Some(src.identifier.clone()),
            read_replica_identifiers: Vec::new(),
            tags: input.tags.clone(),
            instance_class: input
                .instance_class
                .clone()
                .unwrap_or(src.instance_class.clone()),
            deletion_protection: false,
            // RDS creates replicas with automated backups off.
            backup_retention_period: 0,
            ..src.clone()
        };
        let tl = Timeline::turning(
            now,
            DbInstanceStatus::Creating,
            self.timings.read_replica,
            Some(DbInstanceStatus::Available),
        );
        st.instances.insert(id.clone(), Inst { v: v.clone(), tl });
        if let Some(s) = st.instances.get_mut(&src.identifier) {
            s.v.read_replica_identifiers.push(id);
        }
        Ok(v)
    }

    async fn create_db_snapshot(
        &self,
        input: &CreateDbSnapshotInput,
    ) -> Result<DbSnapshot, AwsError> {
        let (now, mut st) = self.open_new(Op::CreateDbSnapshot, &input.snapshot_identifier)?;
        let inst = self.instance_when(
            &mut st,
            &input.db_instance_identifier,
            DbInstanceStatus::is_ready,
        )?;
        let id = input.snapshot_identifier.clone();
        let v = DbSnapshot {
            identifier: id.clone(),
            arn: format!("arn:aws:rds:{REGION_ACCOUNT}:snapshot:{id}"),
            db_instance_identifier: inst.identifier.clone(),
            status: SnapshotStatus::Creating,
            engine: inst.engine.clone(),
            engine_version: inst.engine_version.clone(),
            allocated_storage: inst.allocated_storage,
            encrypted: inst.storage_encrypted,
            kms_key_id: inst.kms_key_id.clone(),
            create_time: Some(self.clock.wall_time()),
            tags: input.tags.clone(),
            ..Default::default()
        };
        let tl = Timeline::turning(
            now,
            SnapshotStatus::Creating,
            self.timings.snapshot,
            Some(SnapshotStatus::Available),
        );
        st.snapshots.insert(
            id,
            Snap {
                v: v.clone(),
                tl,
                started: now,
                duration: self.timings.snapshot,
            },
        );
        Ok(v)
    }

    async fn describe_db_snapshot(&self, identifier: &str) -> Result<DbSnapshot, AwsError> {
        let mut st = self.open(Op::DescribeDbSnapshot, identifier)?;
        self.snapshot_view(&mut st, identifier)
            .ok_or_else(|| not_found("RDS DB Snapshot", identifier))
    }

    async fn copy_db_snapshot(&self, input: &CopyDbSnapshotInput) -> Result<DbSnapshot, AwsError> {
        self.enter(Op::CopyDbSnapshot, &input.target_snapshot_identifier)?;
        let now = self.now();
        let key = self
            .resolve_key(&input.kms_key_id)
            .ok_or(AwsError::Service {
                code: "KMSKeyNotAccessibleFault".into(),
                message: format!("key {} is not accessible", input.kms_key_id),
                status: Some(400),
            })?;
        let mut st = self.lock();
        refuse_if(
            self.snapshot_view(&mut st, &input.target_snapshot_identifier)
                .is_some(),
            || exists("DBSnapshotAlreadyExists", &input.target_snapshot_identifier),
        )?;
        let src_id = last_segment(&input.source_snapshot_identifier);
        let src = self.available_snapshot(&mut st, &src_id)?;
        let id = input.target_snapshot_identifier.clone();
        let mut tags = if input.copy_tags {
            src.tags.clone()
        } else {
            Tags::new()
        };
        tags.extend(input.tags.clone());
        let v = DbSnapshot {
            identifier: id.clone(),
            arn: format!("arn:aws:rds:{REGION_ACCOUNT}:snapshot:{id}"),
            status: SnapshotStatus::Pending,
            percent_progress: 0,
            encrypted: true,
            kms_key_id: Some(key.arn),
            source_db_snapshot_identifier: Some(src.arn.clone()),
            create_time: Some(self.clock.wall_time()),
            tags,
            ..src
        };
        // Like AWS: a copy is queued (`pending`), then `copying`, then `available`.
        let mut tl = Timeline::new(now, SnapshotStatus::Pending);
        tl.set(
            now,
            vec![
                (self.timings.copy / 10, Some(SnapshotStatus::Copying)),
                (self.timings.copy, Some(SnapshotStatus::Available)),
            ],
        );
        st.snapshots.insert(
            id,
            Snap {
                v: v.clone(),
                tl,
                started: now,
                duration: self.timings.copy,
            },
        );
        Ok(v)
    }

    async fn delete_db_snapshot(&self, identifier: &str) -> Result<(), AwsError> {
        let mut st = self.open(Op::DeleteDbSnapshot, identifier)?;
        if self.snapshot_view(&mut st, identifier).is_none() {
            return Err(not_found("RDS DB Snapshot", identifier));
        }
        st.snapshots.remove(identifier);
        Ok(())
    }

    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError> {
        self.enter(Op::DescribeKmsKey, key_id)?;
        self.resolve_key(key_id)
            .ok_or_else(|| not_found("KMS Key", key_id))
    }

    async fn create_replication_subnet_group(
        &self,
        input: &CreateReplicationSubnetGroupInput,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        let (_, mut st) = self.open_new(Op::CreateReplicationSubnetGroup, &input.identifier)?;
        let g = ReplicationSubnetGroup {
            identifier: input.identifier.clone(),
            description: input.description.clone(),
            vpc_id: "vpc-fake".into(),
            subnet_ids: input.subnet_ids.clone(),
            status: SubnetGroupStatus::Complete,
        };
        st.subnet_groups
            .insert(input.identifier.clone(), (g.clone(), input.tags.clone()));
        Ok(g)
    }

    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        self.enter(Op::DescribeReplicationSubnetGroup, identifier)?;
        self.lock()
            .subnet_groups
            .get(identifier)
            .map(|g| g.0.clone())
            .ok_or_else(|| not_found("DMS Replication Subnet Group", identifier))
    }

    async fn delete_replication_subnet_group(&self, identifier: &str) -> Result<(), AwsError> {
        let (now, mut st) = self.open_at(Op::DeleteReplicationSubnetGroup, identifier)?;
        let in_use = st.ris.values().any(|r| {
            r.tl.at(now).is_some() && r.v.subnet_group_identifier.as_deref() == Some(identifier)
        });
        refuse_if(in_use, || {
            dms_busy(format!("subnet group {identifier} is in use"))
        })?;
        st.subnet_groups
            .remove(identifier)
            .map(|_| ())
            .ok_or_else(|| not_found("DMS Replication Subnet Group", identifier))
    }

    async fn create_replication_instance(
        &self,
        input: &CreateReplicationInstanceInput,
    ) -> Result<ReplicationInstance, AwsError> {
        let (now, mut st) = self.open_new(Op::CreateReplicationInstance, &input.identifier)?;
        if let Some(g) = &input.subnet_group_identifier
            && !st.subnet_groups.contains_key(g)
        {
            return Err(not_found("DMS Replication Subnet Group", g));
        }
        let arn = self.arn(&mut st, "dms", "rep");
        let v = ReplicationInstance {
            identifier: input.identifier.clone(),
            arn: arn.clone(),
            status: ReplicationInstanceStatus::Creating,
            instance_class: input.instance_class.clone(),
            allocated_storage: input.allocated_storage.unwrap_or(50),
            engine_version: input.engine_version.clone(),
            multi_az: input.multi_az,
            publicly_accessible: input.publicly_accessible,
            subnet_group_identifier: input.subnet_group_identifier.clone(),
            vpc_security_group_ids: input.vpc_security_group_ids.clone(),
            kms_key_id: input.kms_key_id.clone(),
        };
        let tl = Timeline::turning(
            now,
            ReplicationInstanceStatus::Creating,
            self.timings.replication_instance,
            Some(ReplicationInstanceStatus::Available),
        );
        st.ris.insert(
            arn,
            Ri {
                v: v.clone(),
                tl,
                tags: input.tags.clone(),
            },
        );
        Ok(v)
    }

    async fn describe_replication_instance(
        &self,
        which: &DmsRef,
    ) -> Result<ReplicationInstance, AwsError> {
        let mut st = self.open(Op::DescribeReplicationInstance, which.as_str())?;
        self.ri_view(&mut st, which)
            .map(|(_, v)| v)
            .ok_or_else(|| not_found("DMS Replication Instance", which.as_str()))
    }

    async fn delete_replication_instance(&self, arn: &str) -> Result<(), AwsError> {
        let (now, mut st) = self.open_at(Op::DeleteReplicationInstance, arn)?;
        let Some((arn, cur)) = self.ri_view(&mut st, &DmsRef::Arn(arn.to_owned())) else {
            return Err(not_found("DMS Replication Instance", arn));
        };
        let in_use = st
            .tasks
            .values()
            .any(|t| t.tl.at(now).is_some() && t.v.replication_instance_arn == arn);
        refuse_if(
            in_use || cur.status == ReplicationInstanceStatus::Deleting,
            || {
                dms_busy(format!(
                    "replication instance {} is in use or deleting",
                    cur.identifier
                ))
            },
        )?;
        if let Some(r) = st.ris.get_mut(&arn) {
            r.tl.busy(
                now,
                ReplicationInstanceStatus::Deleting,
                self.timings.replication_instance_delete,
                None,
            );
        }
        Ok(())
    }

    async fn create_endpoint(&self, input: &CreateEndpointInput) -> Result<Endpoint, AwsError> {
        let (_, mut st) = self.open_new(Op::CreateEndpoint, &input.identifier)?;
        let arn = self.arn(&mut st, "dms", "endpoint");
        let (username, secrets_manager_arn, password) = match &input.credentials {
            EndpointCredentials::Password { username, password } => {
                (Some(username.clone()), None, Some(password.clone()))
            }
            EndpointCredentials::SecretsManager { secret_arn, .. } => {
                (None, Some(secret_arn.clone()), None)
            }
        };
        let v = Endpoint {
            identifier: input.identifier.clone(),
            arn: arn.clone(),
            endpoint_type: input.endpoint_type.clone(),
            engine: input.engine.clone(),
            status: EndpointStatus::Active,
            server_name: Some(input.server_name.clone()),
            port: Some(input.port),
            database_name: input.database_name.clone(),
            username,
            secrets_manager_arn,
            ssl_mode: input.ssl_mode.clone(),
            after_connect_script: input.after_connect_script.clone(),
            extra_connection_attributes: input.extra_connection_attributes.clone(),
        };
        st.endpoints
            .insert(arn, (v.clone(), input.tags.clone(), password));
        Ok(v)
    }

    async fn describe_endpoint(&self, which: &DmsRef) -> Result<Endpoint, AwsError> {
        let st = self.open(Op::DescribeEndpoint, which.as_str())?;
        Self::endpoint_arn(&st, which)
            .and_then(|a| st.endpoints.get(&a).map(|e| e.0.clone()))
            .ok_or_else(|| not_found("DMS Endpoint", which.as_str()))
    }

    async fn modify_endpoint(&self, input: &ModifyEndpointInput) -> Result<Endpoint, AwsError> {
        let (now, mut st) = self.open_at(Op::ModifyEndpoint, &input.arn)?;
        let busy = st.tasks.values().any(|t| {
            (t.v.source_endpoint_arn == input.arn || t.v.target_endpoint_arn == input.arn)
                && matches!(
                    t.tl.at(now),
                    Some(ReplicationTaskStatus::Running | ReplicationTaskStatus::Starting)
                )
        });
        refuse_if(busy, || {
            dms_busy("endpoint is used by a running task".into())
        })?;
        let e = st
            .endpoints
            .get_mut(&input.arn)
            .ok_or_else(|| not_found("DMS Endpoint", &input.arn))?;
        if let Some(x) = &input.server_name {
            e.0.server_name = Some(x.clone());
        }
        if let Some(x) = input.port {
            e.0.port = Some(x);
        }
        if let Some(x) = &input.database_name {
            e.0.database_name = Some(x.clone());
        }
        if let Some(x) = &input.ssl_mode {
            e.0.ssl_mode = x.clone();
        }
        if let Some(x) = &input.after_connect_script {
            e.0.after_connect_script = Some(x.clone());
        }
        if let Some(x) = &input.extra_connection_attributes {
            e.0.extra_connection_attributes = Some(x.clone());
        }
        match &input.credentials {
            Some(EndpointCredentials::Password { username, password }) => {
                e.0.username = Some(username.clone());
                e.0.secrets_manager_arn = None;
                e.2 = Some(password.clone());
            }
            Some(EndpointCredentials::SecretsManager { secret_arn, .. }) => {
                e.0.username = None;
                e.0.secrets_manager_arn = Some(secret_arn.clone());
                e.2 = None;
            }
            None => {}
        }
        Ok(e.0.clone())
    }

    async fn delete_endpoint(&self, arn: &str) -> Result<(), AwsError> {
        let (now, mut st) = self.open_at(Op::DeleteEndpoint, arn)?;
        let in_use = st.tasks.values().any(|t| {
            t.tl.at(now).is_some()
                && (t.v.source_endpoint_arn == arn || t.v.target_endpoint_arn == arn)
        });
        refuse_if(in_use, || {
            dms_busy(format!("endpoint {arn} is used by a replication task"))
        })?;
        st.endpoints
            .remove(arn)
            .map(|_| ())
            .ok_or_else(|| not_found("DMS Endpoint", arn))
    }

    async fn test_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError> {
        let mut st = self.open(Op::TestConnection, endpoint_arn)?;
        let ep = st
            .endpoints
            .get(endpoint_arn)
            .map(|e| e.0.identifier.clone())
            .ok_or_else(|| not_found("DMS Endpoint", endpoint_arn))?;
        let failure = st.connection_failures.get(&ep).cloned();
        let c = Connection {
            replication_instance_arn: replication_instance_arn.to_owned(),
            endpoint_arn: endpoint_arn.to_owned(),
            status: if failure.is_some() {
                ConnectionStatus::Failed
            } else {
                ConnectionStatus::Successful
            },
            last_failure_message: failure,
        };
        st.connections.insert(
            (replication_instance_arn.to_owned(), endpoint_arn.to_owned()),
            c.clone(),
        );
        Ok(c)
    }

    async fn describe_connection(
        &self,
        replication_instance_arn: &str,
        endpoint_arn: &str,
    ) -> Result<Connection, AwsError> {
        self.enter(Op::DescribeConnection, endpoint_arn)?;
        self.lock()
            .connections
            .get(&(replication_instance_arn.to_owned(), endpoint_arn.to_owned()))
            .cloned()
            .ok_or_else(|| not_found("DMS Connection", endpoint_arn))
    }

    async fn create_replication_task(
        &self,
        input: &CreateReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError> {
        let (now, mut st) = self.open_new(Op::CreateReplicationTask, &input.identifier)?;
        if self
            .ri_view(
                &mut st,
                &DmsRef::Arn(input.replication_instance_arn.clone()),
            )
            .is_none()
        {
            return Err(not_found(
                "DMS Replication Instance",
                &input.replication_instance_arn,
            ));
        }
        for e in [&input.source_endpoint_arn, &input.target_endpoint_arn] {
            if !st.endpoints.contains_key(e) {
                return Err(not_found("DMS Endpoint", e));
            }
        }
        let arn = self.arn(&mut st, "dms", "task");
        let v = ReplicationTask {
            identifier: input.identifier.clone(),
            arn: arn.clone(),
            status: ReplicationTaskStatus::Creating,
            migration_type: input.migration_type.clone(),
            replication_instance_arn: input.replication_instance_arn.clone(),
            source_endpoint_arn: input.source_endpoint_arn.clone(),
            target_endpoint_arn: input.target_endpoint_arn.clone(),
            table_mappings: input.table_mappings.clone(),
            task_settings: Some(input.task_settings.clone()),
            cdc_start_position: input.cdc_start_position.clone(),
            recovery_checkpoint: None,
            stop_reason: None,
            last_failure_message: None,
            stats: None,
        };
        let tl = Timeline::turning(
            now,
            ReplicationTaskStatus::Creating,
            self.timings.task_create,
            Some(ReplicationTaskStatus::Ready),
        );
        let fail_after = st.task_failures.get(&input.identifier).cloned();
        st.tasks.insert(
            arn,
            Task {
                v: v.clone(),
                tl,
                tags: input.tags.clone(),
                load_started: None,
                loaded: input.migration_type == MigrationType::Cdc,
                fail_after,
            },
        );
        Ok(v)
    }

    async fn describe_replication_task(&self, which: &DmsRef) -> Result<ReplicationTask, AwsError> {
        let mut st = self.open(Op::DescribeReplicationTask, which.as_str())?;
        self.task_view(&mut st, which)
            .ok_or_else(|| not_found("DMS Replication Task", which.as_str()))
    }

    async fn modify_replication_task(
        &self,
        input: &ModifyReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError> {
        let mut st = self.open(Op::ModifyReplicationTask, &input.arn)?;
        let modifiable = |s: &ReplicationTaskStatus| {
            use ReplicationTaskStatus::{Failed, Ready, Stopped};
            matches!(s, Stopped | Ready | Failed)
        };
        let (status, t) = self.task_when(&mut st, &input.arn, modifiable, "")?;
        if let Some(x) = &input.migration_type {
            t.v.migration_type = x.clone();
            // A CDC-only task never loads.
            if *x == MigrationType::Cdc {
                t.loaded = true;
            }
        }
        if let Some(x) = &input.table_mappings {
            t.v.table_mappings = x.clone();
        }
        if let Some(x) = &input.task_settings {
            t.v.task_settings = Some(x.clone());
        }
        if let Some(x) = &input.cdc_start_position {
            t.v.cdc_start_position = Some(x.clone());
        }
        let mut v = t.v.clone();
        v.status = status;
        Ok(v)
    }

    async fn start_replication_task(
        &self,
        input: &StartReplicationTaskInput,
    ) -> Result<ReplicationTask, AwsError> {
        // The start type is part of the logged id so tests can tell resume from reload.
        let (now, mut st) = self.open_at(
            Op::StartReplicationTask,
            &format!("{} {}", input.start_type, input.arn),
        )?;
        let startable = |s: &ReplicationTaskStatus| match input.start_type {
            StartType::StartReplication => *s == ReplicationTaskStatus::Ready,
            StartType::ResumeProcessing | StartType::ReloadTarget => matches!(
                s,
                ReplicationTaskStatus::Stopped | ReplicationTaskStatus::Failed
            ),
            StartType::Other(_) => false,
        };
        let why = format!("; cannot {}", input.start_type);
        let (_, t) = self.task_when(&mut st, &input.arn, startable, &why)?;
        let running_at = now + self.timings.task_start;
        match input.start_type {
            StartType::ResumeProcessing => {}
            _ => {
                if t.v.migration_type != MigrationType::Cdc {
                    t.loaded = false;
                    t.load_started = Some(running_at);
                }
            }
        }
        t.v.stop_reason = None;
        t.v.last_failure_message = None;
        if let Some(p) = &input.cdc_start_position {
            t.v.cdc_start_position = Some(p.clone());
        }
        t.tl.busy(
            now,
            ReplicationTaskStatus::Starting,
            self.timings.task_start,
            Some(ReplicationTaskStatus::Running),
        );
        let mut v = t.v.clone();
        v.status = ReplicationTaskStatus::Starting;
        Ok(v)
    }

    async fn stop_replication_task(&self, arn: &str) -> Result<ReplicationTask, AwsError> {
        let (now, mut st) = self.open_at(Op::StopReplicationTask, arn)?;
        let running = |s: &ReplicationTaskStatus| *s == ReplicationTaskStatus::Running;
        let (_, t) = self.task_when(&mut st, arn, running, "")?;
        t.v.stop_reason = Some("Stop Reason USER_INITIATED".into());
        t.tl.busy(
            now,
            ReplicationTaskStatus::Stopping,
            self.timings.task_stop,
            Some(ReplicationTaskStatus::Stopped),
        );
        let mut v = t.v.clone();
        v.status = ReplicationTaskStatus::Stopping;
        Ok(v)
    }

    async fn delete_replication_task(&self, arn: &str) -> Result<(), AwsError> {
        let (now, mut st) = self.open_at(Op::DeleteReplicationTask, arn)?;
        let idle = |s: &ReplicationTaskStatus| {
            use ReplicationTaskStatus::{Deleting, Running, Starting, Stopping};
            !matches!(s, Running | Starting | Stopping | Deleting)
        };
        let (_, t) = self.task_when(&mut st, arn, idle, "")?;
        let delete = self.timings.task_delete;
        t.tl.busy(now, ReplicationTaskStatus::Deleting, delete, None);
        Ok(())
    }

    async fn describe_table_statistics(
        &self,
        task_arn: &str,
    ) -> Result<Vec<TableStatistics>, AwsError> {
        let mut st = self.open(Op::DescribeTableStatistics, task_arn)?;
        let task = self
            .task_view(&mut st, &DmsRef::Arn(task_arn.to_owned()))
            .ok_or_else(|| not_found("DMS Replication Task", task_arn))?;
        if let Some(s) = st.table_stats.get(&task.identifier) {
            return Ok(s.clone());
        }
        let loaded = task
            .stats
            .as_ref()
            .is_some_and(|s| s.full_load_progress_percent >= 100);
        let validation_on = task
            .task_settings
            .as_deref()
            .is_some_and(|s| s.contains("\"EnableValidation\":true"));
        Ok(vec![TableStatistics {
            schema_name: "public".into(),
            table_name: "orders".into(),
            table_state: if loaded {
                TableState::Completed
            } else {
                TableState::FullLoad
            },
            full_load_rows: if loaded { 1000 } else { 0 },
            inserts: 0,
            updates: 0,
            deletes: 0,
            validation_state: match (validation_on, loaded) {
                (false, _) => ValidationState::NotEnabled,
                (true, true) => ValidationState::Validated,
                (true, false) => ValidationState::PendingRecords,
            },
            validation_pending_records: 0,
            validation_failed_records: 0,
            validation_suspended_records: 0,
        }])
    }

    async fn cdc_latency(&self, query: &CdcLatencyQuery) -> Result<CdcLatency, AwsError> {
        let st = self.open(Op::CdcLatency, &query.replication_task_identifier)?;
        // The fake keys latency by task identifier or resource id, whichever the test set.
        let mut l = st
            .latency
            .get(&query.replication_task_identifier)
            .copied()
            .or_else(|| {
                st.tasks
                    .values()
                    .find(|t| t.v.arn.ends_with(&query.replication_task_identifier))
                    .and_then(|t| st.latency.get(&t.v.identifier).copied())
            })
            .unwrap_or_default();
        // A value without a time is published every period: its newest datapoint is the
        // period holding `end`, stamped with that period's start as CloudWatch does.
        let newest = period_start(query.end, query.period);
        let oldest = query.end.checked_sub(query.window).unwrap_or(query.end);
        // Only datapoints inside the window are returned.
        let side = |v: &mut Option<f64>, at: &mut Option<SystemTime>| {
            *at = v.and(at.or(Some(newest)));
            if at.is_some_and(|t| t < oldest || t > query.end) {
                (*v, *at) = (None, None);
            }
        };
        side(&mut l.source_seconds, &mut l.source_at);
        side(&mut l.target_seconds, &mut l.target_at);
        Ok(l)
    }

    async fn list_tags(&self, arn: &str) -> Result<Tags, AwsError> {
        let mut st = self.open(Op::ListTags, arn)?;
        self.tags_of(&mut st, arn)
            .ok_or_else(|| not_found("resource", arn))
    }

    async fn upsert_cname(&self, input: &UpsertCnameInput) -> Result<String, AwsError> {
        let (now, mut st) = self.open_at(
            Op::UpsertCname,
            &format!("{} {}", input.record_name, input.value),
        )?;
        let zone = input.zone_id.rsplit('/').next().unwrap_or(&input.zone_id);
        let records = st
            .zones
            .get_mut(zone)
            .ok_or_else(|| not_found("Route 53 Hosted Zone", zone))?;
        records.insert(
            fqdn(&input.record_name),
            CnameRecord {
                value: input.value.clone(),
                ttl: Some(input.ttl),
            },
        );
        st.next_arn += 1;
        let id = format!("C{:08}", st.next_arn);
        let tl = Timeline::turning(
            now,
            ChangeStatus::Pending,
            self.timings.route53_insync,
            Some(ChangeStatus::Insync),
        );
        st.changes.insert(id.clone(), tl);
        Ok(id)
    }

    async fn route53_change_status(&self, change_id: &str) -> Result<ChangeStatus, AwsError> {
        let (now, st) = self.open_at(Op::Route53ChangeStatus, change_id)?;
        st.changes
            .get(change_id)
            .and_then(|tl| tl.at(now))
            .ok_or_else(|| not_found("Route 53 Change", change_id))
    }

    async fn describe_cname(
        &self,
        zone_id: &str,
        record_name: &str,
    ) -> Result<CnameRecord, AwsError> {
        let st = self.open(Op::DescribeCname, record_name)?;
        let zone = st
            .zones
            .get(zone_id)
            .ok_or_else(|| not_found("Route 53 Hosted Zone", zone_id))?;
        zone.get(&fqdn(record_name))
            .cloned()
            .ok_or_else(|| not_found("Route 53 Record", record_name))
    }

    async fn create_blue_green_deployment(
        &self,
        input: &CreateBlueGreenDeploymentInput,
    ) -> Result<BlueGreenDeployment, AwsError> {
        self.enter(Op::CreateBlueGreenDeployment, &input.name)?;
        // Keys first: resolving takes the lock.
        let mut keys: Vec<(String, String)> = Vec::new();
        for c in &input.target_resource_configurations {
            let key = match self.resolve_key(&c.kms_key_id) {
                Some(k) => k.arn,
                // Another region's key: kept as given.
                None if c.kms_key_id.starts_with("arn:aws:kms:")
                    && !c.kms_key_id.contains(REGION_ACCOUNT) =>
                {
                    c.kms_key_id.clone()
                }
                None => return Err(not_found("KMS Key", &c.kms_key_id)),
            };
            keys.push((c.source_arn.clone(), key));
        }
        let now = self.now();
        let mut st = self.lock();
        let ids: Vec<String> = st.bgds.keys().cloned().collect();
        for id in &ids {
            refuse_if(
                self.bgd_view(&mut st, id)
                    .is_some_and(|d| d.name == input.name),
                || exists("BlueGreenDeploymentAlreadyExistsFault", &input.name),
            )?;
        }
        let source_id = last_segment(&input.source_arn);
        let source = self
            .instance_view(&mut st, &source_id)
            .ok_or_else(|| not_found("RDS DB Instance", &input.source_arn))?;
        let mut blues = vec![source.clone()];
        for r in &source.read_replica_identifiers {
            if let Some(i) = self.instance_view(&mut st, r) {
                blues.push(i);
            }
        }
        // RDS: with TargetResourceConfigurations, every instance needs its own entry.
        let key_of = |b: &DbInstance| keys.iter().find(|(a, _)| *a == b.arn).map(|(_, k)| k);
        if !keys.is_empty()
            && let Some(b) = blues.iter().find(|b| key_of(b).is_none())
        {
            return Err(AwsError::Service {
                code: "InvalidParameterCombination".into(),
                message: format!(
                    "TargetResourceConfigurations has no entry for {}",
                    b.identifier
                ),
                status: Some(400),
            });
        }
        st.next_arn += 1;
        let n = st.next_arn;
        let bgd_id = format!("bgd-{n:014}");
        let mut pairs = Vec::new();
        let green_id = |b: &str| format!("{b}-green-{n:06}");
        let provision = self.timings.blue_green_provision;
        for (i, b) in blues.iter().enumerate() {
            let gid = green_id(&b.identifier);
            let key = key_of(b).cloned();
            let encrypted = key.is_some() && !st.bg_ignores_keys;
            let mut v = DbInstance {
                identifier: gid.clone(),
                arn: format!("arn:aws:rds:{REGION_ACCOUNT}:db:{gid}"),
                status: DbInstanceStatus::Creating,
                storage_encrypted: encrypted,
                kms_key_id: if encrypted { key } else { None },
                endpoint: b.endpoint.as_ref().map(|e| HostPort {
                    address: e.address.replacen(&b.identifier, &gid, 1),
                    port: e.port,
                }),
                read_replica_source: (i > 0).then(|| green_id(&source.identifier)),
                read_replica_identifiers: if i == 0 {
                    blues[1..].iter().map(|r| green_id(&r.identifier)).collect()
                } else {
                    Vec::new()
                },
                ..b.clone()
            };
            if let Some(ver) = &input.target_engine_version {
                v.engine_version = ver.clone();
            }
            if let Some(pg) = &input.target_db_parameter_group_name {
                v.db_parameter_group_name = Some(pg.clone());
            }
            let tl = Timeline::turning(
                now,
                DbInstanceStatus::Creating,
                provision,
                Some(DbInstanceStatus::Available),
            );
            st.instances.insert(gid.clone(), Inst { v, tl });
            pairs.push((b.identifier.clone(), gid));
        }
        let failure = match st.bg_failure.take() {
            Some((s, d))
                if matches!(
                    s,
                    BlueGreenStatus::ProvisioningFailed | BlueGreenStatus::InvalidConfiguration
                ) =>
            {
                Some((s, d))
            }
            other => {
                st.bg_failure = other;
                None
            }
        };
        let ends = failure
            .as_ref()
            .map_or(BlueGreenStatus::Available, |(s, _)| s.clone());
        let tl = Timeline::turning(now, BlueGreenStatus::Provisioning, provision, Some(ends));
        st.bgds.insert(
            bgd_id.clone(),
            Bgd {
                id: bgd_id.clone(),
                name: input.name.clone(),
                tags: input.tags.clone(),
                tl,
                pairs,
                status_details: failure.map(|(_, d)| d),
            },
        );
        self.bgd_view(&mut st, &bgd_id)
            .ok_or_else(|| not_found("RDS Blue/Green Deployment", &bgd_id))
    }

    async fn describe_blue_green_deployment(
        &self,
        which: &BlueGreenRef,
    ) -> Result<BlueGreenDeployment, AwsError> {
        let mut st = self.open(Op::DescribeBlueGreenDeployment, which.as_str())?;
        let ids: Vec<String> = st.bgds.keys().cloned().collect();
        ids.iter()
            .filter_map(|id| self.bgd_view(&mut st, id))
            .find(|d| match which {
                BlueGreenRef::Id(id) => d.identifier == *id,
                BlueGreenRef::Name(n) => d.name == *n,
            })
            .ok_or_else(|| not_found("RDS Blue/Green Deployment", which.as_str()))
    }

    async fn switchover_blue_green_deployment(
        &self,
        identifier: &str,
        timeout_seconds: i32,
    ) -> Result<BlueGreenDeployment, AwsError> {
        let (now, mut st) = self.open_at(Op::SwitchoverBlueGreenDeployment, identifier)?;
        let d = self
            .bgd_view(&mut st, identifier)
            .ok_or_else(|| not_found("RDS Blue/Green Deployment", identifier))?;
        refuse_if(
            !matches!(
                d.status,
                BlueGreenStatus::Available | BlueGreenStatus::SwitchoverFailed
            ) || timeout_seconds < 30,
            || {
                invalid(
                    "InvalidBlueGreenDeploymentStateFault",
                    format!("deployment {identifier} is {}", d.status),
                )
            },
        )?;
        let switchover = self.timings.blue_green_switchover;
        if let Some((BlueGreenStatus::SwitchoverFailed, details)) = st.bg_failure.clone() {
            // RDS rolls a failed switchover back: nothing is renamed.
            st.bg_failure = None;
            if let Some(b) = st.bgds.get_mut(identifier) {
                b.status_details = Some(details);
                b.tl.busy(
                    now,
                    BlueGreenStatus::SwitchoverInProgress,
                    switchover,
                    Some(BlueGreenStatus::SwitchoverFailed),
                );
            }
            return self
                .bgd_view(&mut st, identifier)
                .ok_or_else(|| not_found("RDS Blue/Green Deployment", identifier));
        }
        let pairs = st
            .bgds
            .get(identifier)
            .map(|b| b.pairs.clone())
            .unwrap_or_default();
        let mut renamed = Vec::new();
        for (blue, green) in &pairs {
            let old = format!("{blue}-old1");
            Self::rename_instance(&mut st, blue, &old);
            Self::rename_instance(&mut st, green, blue);
            renamed.push((old, blue.clone()));
        }
        if let Some(b) = st.bgds.get_mut(identifier) {
            b.pairs = renamed;
            b.tl.busy(
                now,
                BlueGreenStatus::SwitchoverInProgress,
                switchover,
                Some(BlueGreenStatus::SwitchoverCompleted),
            );
        }
        self.bgd_view(&mut st, identifier)
            .ok_or_else(|| not_found("RDS Blue/Green Deployment", identifier))
    }

    async fn delete_blue_green_deployment(
        &self,
        identifier: &str,
        delete_target: bool,
    ) -> Result<(), AwsError> {
        let (now, mut st) = self.open_at(
            Op::DeleteBlueGreenDeployment,
            &format!("{identifier} delete_target={delete_target}"),
        )?;
        let d = self
            .bgd_view(&mut st, identifier)
            .ok_or_else(|| not_found("RDS Blue/Green Deployment", identifier))?;
        match d.status {
            BlueGreenStatus::SwitchoverInProgress | BlueGreenStatus::Deleting => {
                return Err(invalid(
                    "InvalidBlueGreenDeploymentStateFault",
                    format!("deployment {identifier} is {}", d.status),
                ));
            }
            BlueGreenStatus::SwitchoverCompleted if delete_target => {
                return Err(AwsError::Service {
                    code: "InvalidParameterCombination".into(),
                    message: "DeleteTarget cannot be set after a switchover".into(),
                    status: Some(400),
                });
            }
            _ => {}
        }
        let pairs = st
            .bgds
            .get(identifier)
            .map(|b| b.pairs.clone())
            .unwrap_or_default();
        if delete_target {
            for (_, green) in &pairs {
                if let Some(i) = st.instances.get_mut(green) {
                    i.tl.busy(
                        now,
                        DbInstanceStatus::Deleting,
                        self.timings.instance_delete,
                        None,
                    );
                }
            }
        }
        let delete = self.timings.blue_green_delete;
        if let Some(b) = st.bgds.get_mut(identifier) {
            b.tl.busy(now, BlueGreenStatus::Deleting, delete, None);
        }
        Ok(())
    }

    async fn add_tags(&self, arn: &str, tags: &Tags) -> Result<(), AwsError> {
        let mut st = self.open(Op::AddTags, arn)?;
        let mut found = false;
        for i in st.instances.values_mut().filter(|i| i.v.arn == arn) {
            i.v.tags.extend(tags.clone());
            found = true;
        }
        for s in st.snapshots.values_mut().filter(|s| s.v.arn == arn) {
            s.v.tags.extend(tags.clone());
            found = true;
        }
        if let Some(r) = st.ris.get_mut(arn) {
            r.tags.extend(tags.clone());
            found = true;
        }
        if let Some(e) = st.endpoints.get_mut(arn) {
            e.1.extend(tags.clone());
            found = true;
        }
        if let Some(t) = st.tasks.get_mut(arn) {
            t.tags.extend(tags.clone());
            found = true;
        }
        if found {
            Ok(())
        } else {
            Err(not_found("resource", arn))
        }
    }
}

impl FakeAws {
    /// The key `key_id` names. A lookup registered for a key wins over another key's id or
    /// ARN (a test that changes a key's ARN still finds it by the old one).
    fn resolve_key(&self, key_id: &str) -> Option<KmsKey> {
        let st = self.lock();
        let by_lookup = |k: &&Key| {
            k.aliases
                .iter()
                .any(|a| a == key_id || key_id.ends_with(&format!(":{a}")))
        };
        st.keys
            .iter()
            .find(by_lookup)
            .or_else(|| {
                st.keys
                    .iter()
                    .find(|k| k.v.key_id == key_id || k.v.arn == key_id)
            })
            .map(|k| k.v.clone())
    }
}

/// Preflight reads the same fake world the engine changes.
#[async_trait]
impl PreflightApi for FakeAws {
    fn region(&self) -> Option<String> {
        REGION_ACCOUNT.split(':').next().map(str::to_owned)
    }

    async fn describe_db_instance(&self, identifier: &str) -> Result<DbInstance, AwsError> {
        AwsApi::describe_db_instance(self, identifier).await
    }

    async fn describe_source(&self, identifier: &str) -> Result<SourceInstance, AwsError> {
        let instance = AwsApi::describe_db_instance(self, identifier).await?;
        let status = self.lock().apply_status.get(identifier).cloned();
        Ok(SourceInstance {
            instance,
            parameter_apply_status: Some(status.unwrap_or_else(|| "in-sync".to_owned())),
        })
    }

    async fn list_db_instances(&self) -> Result<Vec<DbInstance>, AwsError> {
        AwsApi::list_db_instances(self).await
    }

    async fn describe_db_parameters(
        &self,
        group: &str,
        names: &[&str],
    ) -> Result<BTreeMap<String, String>, AwsError> {
        let st = self.open(Op::DescribeDbParameters, group)?;
        let all = st
            .parameters
            .get(group)
            .ok_or_else(|| not_found("RDS DB Parameter Group", group))?;
        Ok(all
            .iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    async fn describe_kms_key(&self, key_id: &str) -> Result<KmsKey, AwsError> {
        AwsApi::describe_kms_key(self, key_id).await
    }

    async fn describe_replication_instance(
        &self,
        arn: &str,
    ) -> Result<ReplicationInstance, AwsError> {
        AwsApi::describe_replication_instance(self, &DmsRef::Arn(arn.to_owned())).await
    }

    async fn describe_replication_subnet_group(
        &self,
        identifier: &str,
    ) -> Result<ReplicationSubnetGroup, AwsError> {
        AwsApi::describe_replication_subnet_group(self, identifier).await
    }

    async fn describe_secret(&self, id: &str) -> Result<SecretMetadata, AwsError> {
        let st = self.open(Op::DescribeSecret, id)?;
        st.secrets
            .get(id)
            .cloned()
            .ok_or_else(|| not_found("Secrets Manager Secret", id))
    }
}
