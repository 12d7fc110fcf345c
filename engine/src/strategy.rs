//! The one place the migration strategy is chosen. Each engine operation asks the run's
//! [`StrategyOps`] (DMS or blue/green, picked from `spec.strategy`) instead of testing the
//! strategy itself.

use async_trait::async_trait;

use super::blue_green::{
    describe_blue_green_cutover, describe_blue_green_failback, describe_blue_green_finalize,
    validate_cutover as validate_blue_green_cutover,
};
use super::core::Run;
use super::cutover::{CutoverSpec, SwitchOp, describe_dms_cutover, validate_dms_cutover};
use super::error::EngineError;
use super::failback::describe_dms_failback;
use super::finalize::describe_dms_finalize;
use super::observe::{KnownIds, Observed, Scope};
use super::spec::{MigrationSpec, Strategy};
use super::teardown::TeardownOutcome;
use super::update::DmsChange;

/// What a strategy does for each operation of the engine.
#[async_trait]
pub(crate) trait StrategyOps: Send + Sync {
    /// The create path, up to `replicating`.
    async fn create(&self, run: &Run<'_>, known: &KnownIds) -> Result<(), EngineError>;

    /// What exists and the phase it shows.
    async fn observe(
        &self,
        run: &Run<'_>,
        known: &KnownIds,
        scope: Scope,
    ) -> Result<Observed, EngineError>;

    /// A change of the `dms` settings.
    async fn update(
        &self,
        run: &Run<'_>,
        known: &KnownIds,
        change: &DmsChange,
    ) -> Result<(), EngineError>;

    /// Deletes what the migration made (as observed in `o`), going on past failures.
    async fn teardown(&self, run: &Run<'_>, o: &Observed, out: &mut TeardownOutcome);

    /// One of cutover, failback and finalize.
    async fn switch(
        &self,
        run: &Run<'_>,
        op: SwitchOp,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError>;

    /// The strategy's own checks of the cutover settings, each reported through `bad`.
    fn validate_cutover(
        &self,
        cut: &CutoverSpec,
        spec: &MigrationSpec,
        bad: &mut dyn FnMut(&'static str, String),
    );

    /// Sentences saying what `op` will do, for plan warnings. Pure.
    fn describe(
        &self,
        op: SwitchOp,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        o: &Observed,
    ) -> Vec<String>;
}

/// DMS: snapshot, encrypted copy, restore, then DMS replication and a reverse task after
/// the cutover.
struct Dms;

/// An RDS blue/green deployment whose green instances are encrypted.
struct BlueGreen;

/// The implementation of `strategy`.
pub(crate) fn ops(strategy: Strategy) -> &'static dyn StrategyOps {
    match strategy {
        Strategy::Dms => &Dms,
        Strategy::BlueGreen => &BlueGreen,
    }
}

/// Sentences saying what `cutover = true` will do, for `terraform plan` warnings. Pure.
pub fn describe_cutover(spec: &MigrationSpec, cut: &CutoverSpec, o: &Observed) -> Vec<String> {
    ops(spec.strategy).describe(SwitchOp::Cutover, spec, cut, o)
}

/// Sentences saying what `cutover = true -> false` will do, for plan warnings. Pure.
pub fn describe_failback(spec: &MigrationSpec, cut: &CutoverSpec, o: &Observed) -> Vec<String> {
    ops(spec.strategy).describe(SwitchOp::Failback, spec, cut, o)
}

/// Sentences saying what `finalize = true` will do, for plan warnings. Pure.
pub fn describe_finalize(spec: &MigrationSpec, cut: &CutoverSpec, o: &Observed) -> Vec<String> {
    ops(spec.strategy).describe(SwitchOp::Finalize, spec, cut, o)
}

#[async_trait]
impl StrategyOps for Dms {
    async fn create(&self, run: &Run<'_>, _known: &KnownIds) -> Result<(), EngineError> {
        run.reconcile().await
    }

    async fn observe(
        &self,
        run: &Run<'_>,
        known: &KnownIds,
        scope: Scope,
    ) -> Result<Observed, EngineError> {
        run.observe_dms(known, scope).await
    }

    async fn update(
        &self,
        run: &Run<'_>,
        known: &KnownIds,
        change: &DmsChange,
    ) -> Result<(), EngineError> {
        run.update(known, change).await
    }

    async fn teardown(&self, run: &Run<'_>, o: &Observed, out: &mut TeardownOutcome) {
        run.teardown(o, out).await;
    }

    async fn switch(
        &self,
        run: &Run<'_>,
        op: SwitchOp,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        match op {
            SwitchOp::Cutover => Box::pin(run.cutover(cut, known)).await,
            SwitchOp::Failback => Box::pin(run.failback(cut, known)).await,
            SwitchOp::Finalize => Box::pin(run.finalize(cut, known)).await,
        }
    }

    fn validate_cutover(
        &self,
        cut: &CutoverSpec,
        spec: &MigrationSpec,
        bad: &mut dyn FnMut(&'static str, String),
    ) {
        validate_dms_cutover(cut, spec, bad);
    }

    fn describe(
        &self,
        op: SwitchOp,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        o: &Observed,
    ) -> Vec<String> {
        match op {
            SwitchOp::Cutover => describe_dms_cutover(spec, cut, o),
            SwitchOp::Failback => describe_dms_failback(spec, cut, o),
            SwitchOp::Finalize => describe_dms_finalize(spec, cut, o),
        }
    }
}

#[async_trait]
impl StrategyOps for BlueGreen {
    async fn create(&self, run: &Run<'_>, known: &KnownIds) -> Result<(), EngineError> {
        Box::pin(run.reconcile_blue_green(known)).await
    }

    async fn observe(
        &self,
        run: &Run<'_>,
        known: &KnownIds,
        _scope: Scope,
    ) -> Result<Observed, EngineError> {
        Box::pin(run.observe_blue_green(known)).await
    }

    /// Blue/green has no DMS settings: RDS replicates green itself.
    async fn update(
        &self,
        _run: &Run<'_>,
        _known: &KnownIds,
        _change: &DmsChange,
    ) -> Result<(), EngineError> {
        Ok(())
    }

    async fn teardown(&self, run: &Run<'_>, o: &Observed, out: &mut TeardownOutcome) {
        Box::pin(run.teardown_blue_green(o, out)).await;
    }

    async fn switch(
        &self,
        run: &Run<'_>,
        op: SwitchOp,
        cut: &CutoverSpec,
        known: &KnownIds,
    ) -> Result<(), EngineError> {
        match op {
            SwitchOp::Cutover => Box::pin(run.blue_green_cutover(cut, known)).await,
            SwitchOp::Failback => Box::pin(run.blue_green_failback(known)).await,
            SwitchOp::Finalize => Box::pin(run.blue_green_finalize(cut, known)).await,
        }
    }

    fn validate_cutover(
        &self,
        cut: &CutoverSpec,
        _spec: &MigrationSpec,
        bad: &mut dyn FnMut(&'static str, String),
    ) {
        validate_blue_green_cutover(cut, bad);
    }

    fn describe(
        &self,
        op: SwitchOp,
        spec: &MigrationSpec,
        cut: &CutoverSpec,
        o: &Observed,
    ) -> Vec<String> {
        match op {
            SwitchOp::Cutover => describe_blue_green_cutover(spec, cut, o),
            SwitchOp::Failback => describe_blue_green_failback(spec, o),
            SwitchOp::Finalize => describe_blue_green_finalize(spec, cut, o),
        }
    }
}

impl Run<'_> {
    /// The strategy this run's spec asks for.
    pub(crate) fn ops(&self) -> &'static dyn StrategyOps {
        ops(self.spec.strategy)
    }
}
