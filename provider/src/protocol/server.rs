//! The framework side of the plugin server: no protobuf here. It holds the provider, its
//! schemas (built once), the configured provider data and the StopProvider token, and it
//! enforces the protocol's invariants once for every resource, so resources cannot break
//! them:
//! - plan: on create, computed attributes left null become unknown; write-only attributes
//!   are null in the planned state; changed `requires_replace` attributes are listed;
//!   destroy plans null without calling the resource;
//! - apply: write-only attributes are null in the new state; a create that returns no state
//!   and no error is an error; no unknowns remain; known planned values are kept; partial
//!   state is kept when the resource reports an error;
//! - read/import/upgrade: write-only attributes stay null.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use tokio_util::sync::CancellationToken;

use crate::framework::{
    ApplyRequest, ApplyResponse, AttributePath, Block, ConfigureRequest, ConfigureResponse, Ctx,
    DataSource, DeleteRequest, Diagnostics, ImportRequest, ImportResponse, Nesting, PlanRequest,
    PlanResponse, Provider, ReadDataRequest, ReadDataResponse, ReadRequest, ReadResponse, Resource,
    Schema, ValidateRequest, ValidateResponse, Value,
};

use super::{json, msgpack};

mod values;

use values::*;

/// Detail used for diagnostics that can only come from a provider bug.
const PROVIDER_BUG: &str = "This is always a problem with the provider and should be reported \
                            to the provider developers.";

/// A value as it travels on the wire: msgpack or JSON bytes, opaque until a schema decodes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct WireValue {
    /// msgpack encoding (what Terraform sends for everything but stored state).
    pub(crate) msgpack: Vec<u8>,
    /// JSON encoding.
    pub(crate) json: Vec<u8>,
}

impl WireValue {
    /// A msgpack-encoded value.
    pub(crate) fn msgpack(bytes: Vec<u8>) -> Self {
        Self {
            msgpack: bytes,
            json: Vec::new(),
        }
    }
}

/// One registered resource or data source type and its schema, built once.
struct Entry<T: ?Sized> {
    item: Arc<T>,
    schema: Schema,
}

/// A registered resource type.
type ResourceEntry = Entry<dyn Resource>;
/// A registered data source type.
type DataSourceEntry = Entry<dyn DataSource>;

/// The registry of `items` by type name; a duplicate type name keeps the first registration.
fn registry<T: ?Sized>(
    items: Vec<Arc<T>>,
    type_name: impl Fn(&T) -> &'static str,
    schema: impl Fn(&T) -> Schema,
) -> HashMap<String, Entry<T>> {
    let mut entries = HashMap::new();
    for item in items {
        let schema = schema(&*item);
        entries
            .entry(type_name(&*item).to_owned())
            .or_insert(Entry { item, schema });
    }
    entries
}

/// The entry of `type_name` in `entries`, or an error naming the `kind` of type the provider
/// lacks ("Resource", "Data Source").
fn lookup<'a, T: ?Sized>(
    entries: &'a HashMap<String, Entry<T>>,
    kind: &str,
    provider: &str,
    type_name: &str,
    diags: &mut Diagnostics,
) -> Option<&'a Entry<T>> {
    let e = entries.get(type_name);
    if e.is_none() {
        diags.error(
            format!("Unknown {kind} Type"),
            format!(
                "The provider {provider} has no {} type {type_name:?}. {PROVIDER_BUG}",
                kind.to_lowercase()
            ),
        );
    }
    e
}

/// The provider behind the gRPC service.
pub(crate) struct ProviderServer {
    provider: Arc<dyn Provider>,
    provider_schema: Schema,
    resources: HashMap<String, ResourceEntry>,
    data_sources: HashMap<String, DataSourceEntry>,
    /// What the last successful ConfigureProvider produced; replaced on every call.
    provider_data: RwLock<Option<Arc<dyn Any + Send + Sync>>>,
    /// Cancelled by StopProvider, then replaced: it stops operations, never the server.
    stop: Mutex<CancellationToken>,
}

/// Plan output at the wire level.
#[derive(Debug, Default)]
pub(crate) struct PlanOutput {
    pub(crate) planned_state: Option<WireValue>,
    pub(crate) requires_replace: Vec<AttributePath>,
    pub(crate) planned_private: Vec<u8>,
    pub(crate) diagnostics: Diagnostics,
}

/// Apply output at the wire level.
#[derive(Debug, Default)]
pub(crate) struct ApplyOutput {
    pub(crate) new_state: Option<WireValue>,
    pub(crate) private: Vec<u8>,
    pub(crate) diagnostics: Diagnostics,
}

/// Read / import / data-source output at the wire level.
#[derive(Debug, Default)]
pub(crate) struct StateOutput {
    pub(crate) state: Option<WireValue>,
    pub(crate) private: Vec<u8>,
    pub(crate) diagnostics: Diagnostics,
}

impl ProviderServer {
    /// Builds every schema once; duplicate type names keep the first registration.
    pub(crate) fn new(provider: Arc<dyn Provider>) -> Self {
        let provider_schema = provider.schema();
        let resources = registry(provider.resources(), |r| r.type_name(), |r| r.schema());
        let data_sources = registry(provider.data_sources(), |d| d.type_name(), |d| d.schema());
        Self {
            provider,
            provider_schema,
            resources,
            data_sources,
            provider_data: RwLock::new(None),
            stop: Mutex::new(CancellationToken::new()),
        }
    }

    /// The provider configuration schema.
    pub(crate) fn provider_schema(&self) -> &Schema {
        &self.provider_schema
    }

    /// Resource schemas by type name, sorted.
    pub(crate) fn resource_schemas(&self) -> Vec<(&str, &Schema)> {
        let mut v: Vec<_> = self
            .resources
            .iter()
            .map(|(k, e)| (k.as_str(), &e.schema))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// Data source schemas by type name, sorted.
    pub(crate) fn data_source_schemas(&self) -> Vec<(&str, &Schema)> {
        let mut v: Vec<_> = self
            .data_sources
            .iter()
            .map(|(k, e)| (k.as_str(), &e.schema))
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }

    /// The request context: a child of the current stop token and the provider data.
    pub(crate) fn ctx(&self) -> Ctx {
        let cancel = self
            .stop
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .child_token();
        let provider_data = self
            .provider_data
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        Ctx {
            cancel,
            provider_data,
        }
    }

    /// StopProvider: cancels every running operation and installs a fresh token so later
    /// requests (debug mode keeps the process) run normally.
    pub(crate) fn stop(&self) {
        let mut guard = self.stop.lock().unwrap_or_else(PoisonError::into_inner);
        guard.cancel();
        *guard = CancellationToken::new();
    }

    fn resource(&self, type_name: &str, diags: &mut Diagnostics) -> Option<&ResourceEntry> {
        let provider = self.provider.type_name();
        lookup(&self.resources, "Resource", provider, type_name, diags)
    }

    fn data_source(&self, type_name: &str, diags: &mut Diagnostics) -> Option<&DataSourceEntry> {
        let provider = self.provider.type_name();
        lookup(
            &self.data_sources,
            "Data Source",
            provider,
            type_name,
            diags,
        )
    }

    // ---- validate / configure ----

    /// ValidateProviderConfig.
    pub(crate) async fn validate_provider_config(&self, config: Option<&WireValue>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Some(config) = decode_or_diag(config, &self.provider_schema, "config", &mut diags)
        else {
            return diags;
        };
        let mut resp = ValidateResponse::default();
        self.provider
            .validate(ValidateRequest { config }, &mut resp)
            .await;
        diags.append(resp.diagnostics);
        diags
    }

    /// ValidateResourceConfig (values may be unknown anywhere).
    pub(crate) async fn validate_resource_config(
        &self,
        type_name: &str,
        config: Option<&WireValue>,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Some(e) = self.resource(type_name, &mut diags) else {
            return diags;
        };
        let Some(config) = decode_or_diag(config, &e.schema, "config", &mut diags) else {
            return diags;
        };
        let root = AttributePath::root();
        e.schema.block.validate_values(&config, &root, &mut diags);
        let mut resp = ValidateResponse::default();
        let req = ValidateRequest { config };
        e.item
            .validate(&self.validation_ctx(), req, &mut resp)
            .await;
        diags.append(resp.diagnostics);
        diags
    }

    /// ValidateDataResourceConfig.
    pub(crate) async fn validate_data_source_config(
        &self,
        type_name: &str,
        config: Option<&WireValue>,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Some(e) = self.data_source(type_name, &mut diags) else {
            return diags;
        };
        let Some(config) = decode_or_diag(config, &e.schema, "config", &mut diags) else {
            return diags;
        };
        let root = AttributePath::root();
        e.schema.block.validate_values(&config, &root, &mut diags);
        let mut resp = ValidateResponse::default();
        e.item
            .validate(
                &self.validation_ctx(),
                ValidateRequest { config },
                &mut resp,
            )
            .await;
        diags.append(resp.diagnostics);
        diags
    }

    /// Validation is static: no provider data, so it behaves the same before and after
    /// ConfigureProvider.
    fn validation_ctx(&self) -> Ctx {
        Ctx {
            provider_data: None,
            ..self.ctx()
        }
    }

    /// ConfigureProvider: may run many times in one process (debug mode); each successful
    /// call replaces the provider data.
    pub(crate) async fn configure(
        &self,
        terraform_version: String,
        config: Option<&WireValue>,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let Some(config) = decode_or_diag(config, &self.provider_schema, "config", &mut diags)
        else {
            return diags;
        };
        let mut resp = ConfigureResponse::default();
        let ctx = self.ctx();
        self.provider
            .configure(
                &ctx,
                ConfigureRequest {
                    config,
                    terraform_version,
                },
                &mut resp,
            )
            .await;
        if !resp.diagnostics.has_error() {
            *self
                .provider_data
                .write()
                .unwrap_or_else(PoisonError::into_inner) = resp.provider_data;
        }
        diags.append(resp.diagnostics);
        diags
    }

    // ---- managed resources ----

    /// UpgradeResourceState: stored JSON (or msgpack) state to the current schema type.
    pub(crate) fn upgrade_resource_state(
        &self,
        type_name: &str,
        version: i64,
        raw: &WireValue,
        has_flatmap: bool,
    ) -> StateOutput {
        let mut out = StateOutput::default();
        let Some(e) = self.resource(type_name, &mut out.diagnostics) else {
            return out;
        };
        if version > e.schema.version {
            out.diagnostics.error(
                "Unsupported State Version",
                format!(
                    "The stored state of {type_name} has schema version {version}, newer than \
                     this provider's version {}. Use the provider version that wrote the state.",
                    e.schema.version
                ),
            );
            return out;
        }
        let decoded = if !raw.json.is_empty() {
            json::decode_state(&raw.json, &e.schema.block)
        } else if !raw.msgpack.is_empty() {
            msgpack::decode(&raw.msgpack, &e.schema.value_type())
        } else if has_flatmap {
            out.diagnostics.error(
                "Unsupported State Format",
                format!(
                    "The stored state of {type_name} is in the legacy flatmap format, which this \
                     provider never wrote. {PROVIDER_BUG}"
                ),
            );
            return out;
        } else {
            Ok(Value::Null)
        };
        match decoded {
            Ok(mut v) => {
                null_write_only(&e.schema.block, &mut v);
                out.state = self.encode(&v, &e.schema, &mut out.diagnostics);
            }
            Err(err) => out.diagnostics.push(decode_diag("stored state", &err)),
        }
        out
    }

    /// ReadResource.
    pub(crate) async fn read_resource(
        &self,
        type_name: &str,
        current: Option<&WireValue>,
        private: Vec<u8>,
    ) -> StateOutput {
        let mut out = StateOutput::default();
        let Some(e) = self.resource(type_name, &mut out.diagnostics) else {
            return out;
        };
        let Some(current) =
            decode_or_diag(current, &e.schema, "current_state", &mut out.diagnostics)
        else {
            return out;
        };
        let (state, private) = self
            .read_values(e, current, private, &mut out.diagnostics)
            .await;
        out.state = self.encode(&state, &e.schema, &mut out.diagnostics);
        out.private = private;
        out
    }

    async fn read_values(
        &self,
        e: &ResourceEntry,
        current: Value,
        private: Vec<u8>,
        diags: &mut Diagnostics,
    ) -> (Value, Vec<u8>) {
        let mut resp = ReadResponse {
            new_state: current.clone(),
            private: private.clone(),
            diagnostics: Diagnostics::new(),
        };
        e.item
            .read(
                &self.ctx(),
                ReadRequest {
                    current_state: current,
                    private,
                },
                &mut resp,
            )
            .await;
        null_write_only(&e.schema.block, &mut resp.new_state);
        if let Some(p) = first_unknown(&resp.new_state, &AttributePath::root()) {
            resp.diagnostics.attribute_error(
                p.clone(),
                "Provider Returned Invalid Result Object After Read",
                format!("The refreshed state has an unknown value at {p}. {PROVIDER_BUG}"),
            );
            strip_unknowns(&mut resp.new_state);
        }
        diags.append(resp.diagnostics);
        (resp.new_state, resp.private)
    }

    /// PlanResourceChange.
    pub(crate) async fn plan_resource_change(
        &self,
        type_name: &str,
        prior: Option<&WireValue>,
        proposed: Option<&WireValue>,
        config: Option<&WireValue>,
        prior_private: Vec<u8>,
    ) -> PlanOutput {
        let mut out = PlanOutput::default();
        let Some(e) = self.resource(type_name, &mut out.diagnostics) else {
            return out;
        };
        let d = &mut out.diagnostics;
        let (Some(prior), Some(proposed), Some(config)) = (
            decode_or_diag(prior, &e.schema, "prior_state", d),
            decode_or_diag(proposed, &e.schema, "proposed_new_state", d),
            decode_or_diag(config, &e.schema, "config", d),
        ) else {
            return out;
        };
        let resp = self
            .plan_values(e, prior, proposed, config, prior_private)
            .await;
        out.diagnostics.append(resp.diagnostics);
        out.planned_state = self.encode(&resp.planned_state, &e.schema, &mut out.diagnostics);
        out.requires_replace = resp.requires_replace;
        out.planned_private = resp.planned_private;
        out
    }

    async fn plan_values(
        &self,
        e: &ResourceEntry,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: Vec<u8>,
    ) -> PlanResponse {
        // Destroy: nothing to decide (plan_destroy is not advertised, so this only runs for
        // clients that call anyway).
        if proposed.is_null() {
            return PlanResponse {
                planned_state: Value::Null,
                planned_private: prior_private,
                ..PlanResponse::default()
            };
        }
        let block = &e.schema.block;
        let mut planned = proposed.clone();
        null_write_only(block, &mut planned);
        let mut requires_replace = Vec::new();
        if prior.is_null() {
            mark_computed_unknown(block, &mut planned);
        } else {
            replace_paths(
                block,
                &prior,
                &planned,
                &AttributePath::root(),
                &mut requires_replace,
            );
        }
        apply_defaults(block, &mut planned);
        let mut resp = PlanResponse {
            planned_state: planned,
            requires_replace,
            planned_private: prior_private.clone(),
            diagnostics: Diagnostics::new(),
        };
        let req_config = config.clone();
        e.item
            .plan(
                &self.ctx(),
                PlanRequest {
                    config,
                    prior_state: prior,
                    proposed_new_state: proposed,
                    prior_private,
                },
                &mut resp,
            )
            .await;
        // The resource may have copied config values around: enforce again.
        null_write_only(block, &mut resp.planned_state);
        keep_unknown_configured(block, &req_config, &mut resp.planned_state);
        if !resp.planned_state.is_null()
            && let Some(p) = changed_configured_value(
                block,
                &req_config,
                &resp.planned_state,
                &AttributePath::root(),
            )
        {
            resp.diagnostics.attribute_error(
                p.clone(),
                "Provider Produced Invalid Plan",
                format!(
                    "The planned value at {p} differs from the configuration, but the attribute \
                     is not computed, so Terraform would reject the plan. {PROVIDER_BUG}"
                ),
            );
        }
        let mut seen = Vec::new();
        resp.requires_replace.retain(|p| {
            let fresh = !seen.contains(p);
            if fresh {
                seen.push(p.clone());
            }
            fresh
        });
        resp
    }

    /// ApplyResourceChange: create, update or delete from (prior null?, planned null?).
    pub(crate) async fn apply_resource_change(
        &self,
        type_name: &str,
        prior: Option<&WireValue>,
        planned: Option<&WireValue>,
        config: Option<&WireValue>,
        planned_private: Vec<u8>,
    ) -> ApplyOutput {
        let mut out = ApplyOutput::default();
        let Some(e) = self.resource(type_name, &mut out.diagnostics) else {
            return out;
        };
        let d = &mut out.diagnostics;
        let (Some(prior), Some(planned), Some(config)) = (
            decode_or_diag(prior, &e.schema, "prior_state", d),
            decode_or_diag(planned, &e.schema, "planned_state", d),
            decode_or_diag(config, &e.schema, "config", d),
        ) else {
            return out;
        };
        let resp = self
            .apply_values(e, prior, planned, config, planned_private)
            .await;
        out.diagnostics.append(resp.diagnostics);
        out.new_state = self.encode(&resp.new_state, &e.schema, &mut out.diagnostics);
        out.private = resp.private;
        out
    }

    async fn apply_values(
        &self,
        e: &ResourceEntry,
        prior: Value,
        planned: Value,
        config: Value,
        planned_private: Vec<u8>,
    ) -> ApplyResponse {
        let ctx = self.ctx();
        let block = &e.schema.block;
        if planned.is_null() {
            if prior.is_null() {
                // Nothing existed and nothing is wanted.
                return ApplyResponse::default();
            }
            // Delete: state stays until the resource succeeds, so a failed delete keeps
            // the object in state.
            let mut resp = ApplyResponse {
                new_state: prior.clone(),
                private: planned_private.clone(),
                diagnostics: Diagnostics::new(),
            };
            e.item
                .delete(
                    &ctx,
                    DeleteRequest {
                        prior_state: prior,
                        prior_private: planned_private,
                    },
                    &mut resp,
                )
                .await;
            if !resp.diagnostics.has_error() {
                resp.new_state = Value::Null;
            }
            null_write_only(block, &mut resp.new_state);
            strip_unknowns(&mut resp.new_state);
            return resp;
        }

        let creating = prior.is_null();
        let mut resp = ApplyResponse {
            new_state: planned.clone(),
            private: planned_private.clone(),
            diagnostics: Diagnostics::new(),
        };
        let req = ApplyRequest {
            config,
            prior_state: prior,
            planned_state: planned.clone(),
            planned_private,
        };
        if creating {
            e.item.create(&ctx, req, &mut resp).await;
        } else {
            e.item.update(&ctx, req, &mut resp).await;
        }
        null_write_only(block, &mut resp.new_state);

        if resp.diagnostics.has_error() {
            // Keep the partial state (Terraform saves it, tainted on create), but it must
            // not carry unknowns or Terraform rejects it and the object is orphaned.
            strip_unknowns(&mut resp.new_state);
            return resp;
        }
        if creating && resp.new_state.is_null() {
            resp.diagnostics.error(
                "Missing Resource State After Create",
                format!(
                    "The create operation of {} returned no state and no error. {PROVIDER_BUG}",
                    e.item.type_name()
                ),
            );
            return resp;
        }
        if let Some(p) = first_unknown(&resp.new_state, &AttributePath::root()) {
            resp.diagnostics.attribute_error(
                p.clone(),
                "Provider Returned Invalid Result Object After Apply",
                format!(
                    "After applying {}, the value at {p} is still unknown; every value must be \
                     known after apply. {PROVIDER_BUG}",
                    e.item.type_name()
                ),
            );
            strip_unknowns(&mut resp.new_state);
            return resp;
        }
        if let Some(p) = changed_known_value(&planned, &resp.new_state, &AttributePath::root()) {
            resp.diagnostics.attribute_error(
                p.clone(),
                "Provider Produced Inconsistent Result After Apply",
                format!(
                    "After applying {}, the value at {p} differs from the known value that was \
                     planned. {PROVIDER_BUG}",
                    e.item.type_name()
                ),
            );
        }
        resp
    }

    /// ImportResourceState: the resource's import, returned as-is (Terraform reads next).
    pub(crate) async fn import_resource_state(&self, type_name: &str, id: String) -> StateOutput {
        let mut out = StateOutput::default();
        let Some(e) = self.resource(type_name, &mut out.diagnostics) else {
            return out;
        };
        let mut resp = ImportResponse::default();
        e.item
            .import(&self.ctx(), ImportRequest { id }, &mut resp)
            .await;
        null_write_only(&e.schema.block, &mut resp.state);
        if let Some(p) = first_unknown(&resp.state, &AttributePath::root()) {
            resp.diagnostics.attribute_error(
                p.clone(),
                "Provider Returned Invalid Import State",
                format!("The imported state has an unknown value at {p}. {PROVIDER_BUG}"),
            );
            strip_unknowns(&mut resp.state);
        }
        if resp.state.is_null() && !resp.diagnostics.has_error() {
            resp.diagnostics.error(
                "Cannot Import Non-Existent Remote Object",
                format!(
                    "{type_name} found nothing to import for the given id. Check the id and \
                     the provider's region and credentials."
                ),
            );
        }
        out.diagnostics.append(resp.diagnostics);
        if !resp.state.is_null() {
            out.state = self.encode(&resp.state, &e.schema, &mut out.diagnostics);
        }
        out.private = resp.private;
        out
    }

    /// ReadDataSource.
    pub(crate) async fn read_data_source(
        &self,
        type_name: &str,
        config: Option<&WireValue>,
    ) -> StateOutput {
        let mut out = StateOutput::default();
        let Some(e) = self.data_source(type_name, &mut out.diagnostics) else {
            return out;
        };
        let Some(config) = decode_or_diag(config, &e.schema, "config", &mut out.diagnostics) else {
            return out;
        };
        let mut resp = ReadDataResponse {
            state: config.clone(),
            diagnostics: Diagnostics::new(),
        };
        e.item
            .read(&self.ctx(), ReadDataRequest { config }, &mut resp)
            .await;
        if !resp.diagnostics.has_error()
            && let Some(p) = first_unknown(&resp.state, &AttributePath::root())
        {
            resp.diagnostics.attribute_error(
                p.clone(),
                "Provider Returned Invalid Data Source State",
                format!("The data source result has an unknown value at {p}. {PROVIDER_BUG}"),
            );
        }
        strip_unknowns(&mut resp.state);
        out.diagnostics.append(resp.diagnostics);
        out.state = self.encode(&resp.state, &e.schema, &mut out.diagnostics);
        out
    }

    fn encode(&self, v: &Value, schema: &Schema, diags: &mut Diagnostics) -> Option<WireValue> {
        match msgpack::encode(v, &schema.value_type()) {
            Ok(b) => Some(WireValue::msgpack(b)),
            Err(err) => {
                diags.attribute_error(
                    err.path.clone(),
                    "Provider Produced Invalid Value",
                    format!("The value could not be encoded: {err}. {PROVIDER_BUG}"),
                );
                None
            }
        }
    }
}

/// Decodes an optional wire value against the schema; absent means null.
fn decode_or_diag(
    w: Option<&WireValue>,
    schema: &Schema,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let Some(w) = w else {
        return Some(Value::Null);
    };
    let r = if !w.msgpack.is_empty() {
        msgpack::decode(&w.msgpack, &schema.value_type())
    } else if !w.json.is_empty() {
        json::decode_state(&w.json, &schema.block)
    } else {
        Ok(Value::Null)
    };
    match r {
        Ok(v) => Some(v),
        Err(err) => {
            diags.push(decode_diag(what, &err));
            None
        }
    }
}

fn decode_diag(what: &str, err: &msgpack::DecodeError) -> crate::framework::Diagnostic {
    crate::framework::Diagnostic {
        severity: crate::framework::Severity::Error,
        summary: "Invalid Value From Terraform".to_owned(),
        detail: format!(
            "The provider could not read the {what} Terraform sent: {err}. This usually means \
             Terraform and the provider disagree on the schema; run `terraform init -upgrade`."
        ),
        attribute: (!err.path.0.is_empty()).then(|| err.path.clone()),
    }
}

#[cfg(test)]
mod tests;
