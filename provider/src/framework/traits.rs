//! What a provider, its resources and data sources implement. Every operation takes a
//! request struct and a pre-filled response, so diagnostics and partial state cannot be
//! forgotten (the terraform-plugin-framework shape).

use std::any::Any;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::diag::Diagnostics;
use super::path::AttributePath;
use super::schema::Schema;
use super::value::Value;

/// Per-request context: the cancellation signal (StopProvider) and the data the provider
/// built in ConfigureProvider (e.g. AWS clients).
#[derive(Clone)]
pub struct Ctx {
    /// Cancelled when Terraform calls StopProvider; long waits must watch it.
    pub cancel: CancellationToken,
    /// What `Provider::configure` returned, when it has run.
    pub provider_data: Option<Arc<dyn Any + Send + Sync>>,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("cancelled", &self.cancel.is_cancelled())
            .field("configured", &self.provider_data.is_some())
            .finish()
    }
}

impl Ctx {
    /// A context with no provider data and a fresh token (tests, validation).
    pub fn detached() -> Self {
        Self {
            cancel: CancellationToken::new(),
            provider_data: None,
        }
    }
    /// The provider data as `T`, when configured with that type.
    pub fn data<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.provider_data
            .clone()
            .and_then(|d| d.downcast::<T>().ok())
    }
}

/// ConfigureProvider input.
#[derive(Debug)]
pub struct ConfigureRequest {
    /// The provider configuration (may contain unknowns).
    pub config: Value,
    /// Terraform's version, e.g. "1.11.4".
    pub terraform_version: String,
}

/// ConfigureProvider output.
#[derive(Default)]
pub struct ConfigureResponse {
    /// Diagnostics.
    pub diagnostics: Diagnostics,
    /// Data handed to every later request through [`Ctx::provider_data`].
    pub provider_data: Option<Arc<dyn Any + Send + Sync>>,
}

/// Validate*Config input (values may be unknown anywhere).
#[derive(Debug)]
pub struct ValidateRequest {
    /// The configuration.
    pub config: Value,
}

/// Validate*Config output.
#[derive(Debug, Default)]
pub struct ValidateResponse {
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// PlanResourceChange input, after the server's generic planning.
#[derive(Debug)]
pub struct PlanRequest {
    /// Configuration.
    pub config: Value,
    /// Prior state (null on create).
    pub prior_state: Value,
    /// Terraform's proposed new state (null on destroy).
    pub proposed_new_state: Value,
    /// Private data from the prior apply.
    pub prior_private: Vec<u8>,
}

/// PlanResourceChange output, pre-filled by the server: `planned_state` is the proposed
/// state with write-only attributes nulled and, on create, unset computed attributes unknown;
/// `requires_replace` already lists changed `requires_replace` attributes.
#[derive(Debug, Default)]
pub struct PlanResponse {
    /// The planned state.
    pub planned_state: Value,
    /// Attributes whose change forces replacement.
    pub requires_replace: Vec<AttributePath>,
    /// Private data passed to apply.
    pub planned_private: Vec<u8>,
    /// Diagnostics (warnings here show in `terraform plan`).
    pub diagnostics: Diagnostics,
}

/// ApplyResourceChange input for create and update.
#[derive(Debug)]
pub struct ApplyRequest {
    /// Configuration (carries write-only values, which the plan does not).
    pub config: Value,
    /// Prior state (null on create).
    pub prior_state: Value,
    /// The planned state.
    pub planned_state: Value,
    /// Private data from planning.
    pub planned_private: Vec<u8>,
}

/// ApplyResourceChange output, pre-filled: `new_state` starts as the planned state (create,
/// update) so partial progress is kept when an error is added.
#[derive(Debug, Default)]
pub struct ApplyResponse {
    /// The new state (null after delete).
    pub new_state: Value,
    /// Private data to store.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// Delete input.
#[derive(Debug)]
pub struct DeleteRequest {
    /// The state being destroyed.
    pub prior_state: Value,
    /// Private data.
    pub prior_private: Vec<u8>,
}

/// ReadResource input.
#[derive(Debug)]
pub struct ReadRequest {
    /// Current state.
    pub current_state: Value,
    /// Private data.
    pub private: Vec<u8>,
}

/// ReadResource output, pre-filled with the current state. Set `new_state` to null when the
/// remote object is gone.
#[derive(Debug, Default)]
pub struct ReadResponse {
    /// Refreshed state.
    pub new_state: Value,
    /// Private data.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// ImportResourceState input.
#[derive(Debug)]
pub struct ImportRequest {
    /// The id the user gave to `terraform import` / an `import` block.
    pub id: String,
}

/// ImportResourceState output: the imported state, which is then read.
#[derive(Debug, Default)]
pub struct ImportResponse {
    /// The imported state (null = nothing imported).
    pub state: Value,
    /// Private data.
    pub private: Vec<u8>,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// ReadDataSource input.
#[derive(Debug)]
pub struct ReadDataRequest {
    /// Configuration (fully known: Terraform defers unknown data sources).
    pub config: Value,
}

/// ReadDataSource output, pre-filled with the configuration.
#[derive(Debug, Default)]
pub struct ReadDataResponse {
    /// The data source's state.
    pub state: Value,
    /// Diagnostics.
    pub diagnostics: Diagnostics,
}

/// A provider: its configuration schema and its resources and data sources.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's type name (`rdsenc`): the prefix of its resource types.
    fn type_name(&self) -> &'static str;
    /// The `provider "..." {}` schema.
    fn schema(&self) -> Schema;
    /// Static checks of the provider configuration.
    async fn validate(&self, _req: ValidateRequest, _resp: &mut ValidateResponse) {}
    /// ConfigureProvider: may be called more than once per process (debug mode).
    async fn configure(&self, ctx: &Ctx, req: ConfigureRequest, resp: &mut ConfigureResponse);
    /// Every managed resource type.
    fn resources(&self) -> Vec<Arc<dyn Resource>>;
    /// Every data source type.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;
}

/// A managed resource type.
#[async_trait]
pub trait Resource: Send + Sync {
    /// Full type name, e.g. `rdsenc_migration`.
    fn type_name(&self) -> &'static str;
    /// Its schema.
    fn schema(&self) -> Schema;
    /// Static checks (no provider data; values may be unknown).
    async fn validate(&self, _ctx: &Ctx, _req: ValidateRequest, _resp: &mut ValidateResponse) {}
    /// Resource-specific planning on top of the server's generic planning; the place for
    /// plan-time checks against AWS and for plan warnings that describe the change.
    async fn plan(&self, _ctx: &Ctx, _req: PlanRequest, _resp: &mut PlanResponse) {}
    /// Creates the remote objects.
    async fn create(&self, ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse);
    /// Refreshes state from the remote objects.
    async fn read(&self, ctx: &Ctx, req: ReadRequest, resp: &mut ReadResponse);
    /// Updates in place.
    async fn update(&self, ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse);
    /// Deletes the remote objects.
    async fn delete(&self, ctx: &Ctx, req: DeleteRequest, resp: &mut ApplyResponse);
    /// Imports by id; the default refuses.
    async fn import(&self, _ctx: &Ctx, req: ImportRequest, resp: &mut ImportResponse) {
        resp.diagnostics.error(
            "Import Not Supported",
            format!("{} cannot be imported (id {:?}).", self.type_name(), req.id),
        );
    }
}

/// A data source type.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// Full type name, e.g. `rdsenc_db_instance`.
    fn type_name(&self) -> &'static str;
    /// Its schema.
    fn schema(&self) -> Schema;
    /// Static checks.
    async fn validate(&self, _ctx: &Ctx, _req: ValidateRequest, _resp: &mut ValidateResponse) {}
    /// Reads the data.
    async fn read(&self, ctx: &Ctx, req: ReadDataRequest, resp: &mut ReadDataResponse);
}
