//! The `tfplugin6.Provider` gRPC service. Every handler is the same short pipeline:
//! span(rpc, type_name) -> from_proto -> server (looks up the type; unknown names are
//! diagnostics) -> to_proto. Domain failures travel as diagnostics in `Ok` responses;
//! no handler returns `Err(Status)`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

use tonic::{Request, Response, Status};
use tracing::Instrument;

use crate::framework::Diagnostics;

use super::server::ProviderServer;
use super::tfplugin6 as pb;
use super::tfplugin6::provider_server::Provider;
use super::{from_proto, to_proto};

/// The gRPC face of a [`ProviderServer`].
pub(crate) struct GrpcProvider {
    server: Arc<ProviderServer>,
    in_flight: Arc<InFlight>,
}

impl GrpcProvider {
    /// Wraps the server; every request is counted in `in_flight` while it runs.
    pub(crate) fn new(server: Arc<ProviderServer>, in_flight: Arc<InFlight>) -> Self {
        Self { server, in_flight }
    }
}

/// Counts running requests so a shutdown can wait for them, and no longer.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

/// Marks one running request; dropping it ends the request.
pub(crate) struct Busy(Arc<InFlight>);

impl InFlight {
    /// Marks a request as running until the guard drops.
    pub(crate) fn enter(self: &Arc<Self>) -> Busy {
        self.count.fetch_add(1, Ordering::SeqCst);
        Busy(self.clone())
    }
    /// Resolves when no request is running.
    pub(crate) async fn idle(&self) {
        loop {
            // Created before the check: notify_waiters reaches it even if not yet polled.
            let notified = self.idle.notified();
            if self.count.load(Ordering::SeqCst) == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

type Rpc<T> = Result<Response<T>, Status>;

/// The span every RPC runs in; `type_name` is empty for provider-level calls.
fn span(rpc: &'static str, type_name: &str) -> tracing::Span {
    tracing::info_span!("rpc", tf_rpc = rpc, tf_type_name = type_name)
}

/// Logs the outcome of one RPC (never values: they may hold secrets).
fn finished(diags: &[pb::Diagnostic]) {
    let errors = diags
        .iter()
        .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
        .count();
    tracing::debug!(diagnostics = diags.len(), errors, "served request");
}

fn error_diag(summary: &str, detail: String) -> Vec<pb::Diagnostic> {
    let mut d = Diagnostics::new();
    d.error(summary, detail);
    to_proto::diagnostics(&d)
}

#[tonic::async_trait]
impl Provider for GrpcProvider {
    async fn get_metadata(
        &self,
        _req: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        let _busy = self.in_flight.enter();
        let _g = span("GetMetadata", "").entered();
        let s = &self.server;
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(capabilities()),
            diagnostics: Vec::new(),
            data_sources: s
                .data_source_schemas()
                .into_iter()
                .map(|(n, _)| pb::get_metadata::DataSourceMetadata {
                    type_name: n.to_owned(),
                })
                .collect(),
            resources: s
                .resource_schemas()
                .into_iter()
                .map(|(n, _)| pb::get_metadata::ResourceMetadata {
                    type_name: n.to_owned(),
                })
                .collect(),
            functions: Vec::new(),
            ephemeral_resources: Vec::new(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _req: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        let _busy = self.in_flight.enter();
        let _g = span("GetProviderSchema", "").entered();
        let s = &self.server;
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(to_proto::schema(s.provider_schema())),
            resource_schemas: s
                .resource_schemas()
                .into_iter()
                .map(|(n, sc)| (n.to_owned(), to_proto::schema(sc)))
                .collect(),
            data_source_schemas: s
                .data_source_schemas()
                .into_iter()
                .map(|(n, sc)| (n.to_owned(), to_proto::schema(sc)))
                .collect(),
            functions: Default::default(),
            ephemeral_resource_schemas: Default::default(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        async {
            let config = from_proto::dynamic(req.config);
            let d = self.server.validate_provider_config(config.as_ref()).await;
            let diagnostics = to_proto::diagnostics(&d);
            finished(&diagnostics);
            Ok(Response::new(pb::validate_provider_config::Response {
                diagnostics,
            }))
        }
        .instrument(span("ValidateProviderConfig", ""))
        .await
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let sp = span("ValidateResourceConfig", &req.type_name);
        async {
            let config = from_proto::dynamic(req.config);
            let d = self
                .server
                .validate_resource_config(&req.type_name, config.as_ref())
                .await;
            let diagnostics = to_proto::diagnostics(&d);
            finished(&diagnostics);
            Ok(Response::new(pb::validate_resource_config::Response {
                diagnostics,
            }))
        }
        .instrument(sp)
        .await
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let sp = span("ValidateDataResourceConfig", &req.type_name);
        async {
            let config = from_proto::dynamic(req.config);
            let d = self
                .server
                .validate_data_source_config(&req.type_name, config.as_ref())
                .await;
            let diagnostics = to_proto::diagnostics(&d);
            finished(&diagnostics);
            Ok(Response::new(pb::validate_data_resource_config::Response {
                diagnostics,
            }))
        }
        .instrument(sp)
        .await
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let _g = span("UpgradeResourceState", &req.type_name).entered();
        let (raw, has_flatmap) = from_proto::raw_state(req.raw_state);
        let out =
            self.server
                .upgrade_resource_state(&req.type_name, req.version, &raw, has_flatmap);
        let diagnostics = to_proto::diagnostics(&out.diagnostics);
        finished(&diagnostics);
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state: to_proto::dynamic(out.state),
            diagnostics,
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        async {
            let config = from_proto::dynamic(req.config);
            let d = self
                .server
                .configure(req.terraform_version, config.as_ref())
                .await;
            let diagnostics = to_proto::diagnostics(&d);
            finished(&diagnostics);
            Ok(Response::new(pb::configure_provider::Response {
                diagnostics,
            }))
        }
        .instrument(span("ConfigureProvider", ""))
        .await
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let sp = span("ReadResource", &req.type_name);
        async {
            let current = from_proto::dynamic(req.current_state);
            let out = self
                .server
                .read_resource(&req.type_name, current.as_ref(), req.private)
                .await;
            let diagnostics = to_proto::diagnostics(&out.diagnostics);
            finished(&diagnostics);
            Ok(Response::new(pb::read_resource::Response {
                new_state: to_proto::dynamic(out.state),
                diagnostics,
                private: out.private,
                deferred: None,
            }))
        }
        .instrument(sp)
        .await
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let sp = span("PlanResourceChange", &req.type_name);
        async {
            let prior = from_proto::dynamic(req.prior_state);
            let proposed = from_proto::dynamic(req.proposed_new_state);
            let config = from_proto::dynamic(req.config);
            let out = self
                .server
                .plan_resource_change(
                    &req.type_name,
                    prior.as_ref(),
                    proposed.as_ref(),
                    config.as_ref(),
                    req.prior_private,
                )
                .await;
            let diagnostics = to_proto::diagnostics(&out.diagnostics);
            finished(&diagnostics);
            Ok(Response::new(pb::plan_resource_change::Response {
                planned_state: to_proto::dynamic(out.planned_state),
                requires_replace: out
                    .requires_replace
                    .iter()
                    .map(to_proto::attribute_path)
                    .collect(),
                planned_private: out.planned_private,
                diagnostics,
                legacy_type_system: false,
                deferred: None,
            }))
        }
        .instrument(sp)
        .await
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let sp = span("ApplyResourceChange", &req.type_name);
        async {
            let prior = from_proto::dynamic(req.prior_state);
            let planned = from_proto::dynamic(req.planned_state);
            let config = from_proto::dynamic(req.config);
            let out = self
                .server
                .apply_resource_change(
                    &req.type_name,
                    prior.as_ref(),
                    planned.as_ref(),
                    config.as_ref(),
                    req.planned_private,
                )
                .await;
            let diagnostics = to_proto::diagnostics(&out.diagnostics);
            finished(&diagnostics);
            Ok(Response::new(pb::apply_resource_change::Response {
                new_state: to_proto::dynamic(out.new_state),
                private: out.private,
                diagnostics,
                legacy_type_system: false,
            }))
        }
        .instrument(sp)
        .await
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let sp = span("ImportResourceState", &req.type_name);
        async {
            let out = self
                .server
                .import_resource_state(&req.type_name, req.id)
                .await;
            let diagnostics = to_proto::diagnostics(&out.diagnostics);
            finished(&diagnostics);
            let imported_resources = out
                .state
                .map(|state| pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: to_proto::dynamic(Some(state)),
                    private: out.private,
                })
                .into_iter()
                .collect();
            Ok(Response::new(pb::import_resource_state::Response {
                imported_resources,
                diagnostics,
                deferred: None,
            }))
        }
        .instrument(sp)
        .await
    }

    async fn move_resource_state(
        &self,
        req: Request<pb::move_resource_state::Request>,
    ) -> Rpc<pb::move_resource_state::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let _g = span("MoveResourceState", &req.target_type_name).entered();
        Ok(Response::new(pb::move_resource_state::Response {
            target_state: None,
            diagnostics: error_diag(
                "Move Resource State Not Supported",
                format!(
                    "{} cannot take over state from {} ({}): this provider does not support \
                     moved blocks across resource types. Import the object instead.",
                    req.target_type_name, req.source_type_name, req.source_provider_address
                ),
            ),
            target_private: Vec::new(),
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let sp = span("ReadDataSource", &req.type_name);
        async {
            let config = from_proto::dynamic(req.config);
            let out = self
                .server
                .read_data_source(&req.type_name, config.as_ref())
                .await;
            let diagnostics = to_proto::diagnostics(&out.diagnostics);
            finished(&diagnostics);
            Ok(Response::new(pb::read_data_source::Response {
                state: to_proto::dynamic(out.state),
                diagnostics,
                deferred: None,
            }))
        }
        .instrument(sp)
        .await
    }

    async fn validate_ephemeral_resource_config(
        &self,
        req: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Rpc<pb::validate_ephemeral_resource_config::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let _g = span("ValidateEphemeralResourceConfig", &req.type_name).entered();
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: no_ephemeral(&req.type_name),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        req: Request<pb::open_ephemeral_resource::Request>,
    ) -> Rpc<pb::open_ephemeral_resource::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let _g = span("OpenEphemeralResource", &req.type_name).entered();
        Ok(Response::new(pb::open_ephemeral_resource::Response {
            diagnostics: no_ephemeral(&req.type_name),
            renew_at: None,
            result: None,
            private: None,
            deferred: None,
        }))
    }

    async fn renew_ephemeral_resource(
        &self,
        req: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Rpc<pb::renew_ephemeral_resource::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let _g = span("RenewEphemeralResource", &req.type_name).entered();
        Ok(Response::new(pb::renew_ephemeral_resource::Response {
            diagnostics: no_ephemeral(&req.type_name),
            renew_at: None,
            private: None,
        }))
    }

    async fn close_ephemeral_resource(
        &self,
        req: Request<pb::close_ephemeral_resource::Request>,
    ) -> Rpc<pb::close_ephemeral_resource::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let _g = span("CloseEphemeralResource", &req.type_name).entered();
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: no_ephemeral(&req.type_name),
        }))
    }

    async fn get_functions(
        &self,
        _req: Request<pb::get_functions::Request>,
    ) -> Rpc<pb::get_functions::Response> {
        let _busy = self.in_flight.enter();
        let _g = span("GetFunctions", "").entered();
        Ok(Response::new(pb::get_functions::Response {
            functions: Default::default(),
            diagnostics: Vec::new(),
        }))
    }

    async fn call_function(
        &self,
        req: Request<pb::call_function::Request>,
    ) -> Rpc<pb::call_function::Response> {
        let _busy = self.in_flight.enter();
        let req = req.into_inner();
        let _g = span("CallFunction", &req.name).entered();
        Ok(Response::new(pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: format!("This provider has no function named {:?}.", req.name),
                function_argument: None,
            }),
        }))
    }

    async fn stop_provider(
        &self,
        _req: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        let _busy = self.in_flight.enter();
        let _g = span("StopProvider", "").entered();
        // Cancels running operations; the server keeps serving (Terraform still needs the
        // partial state they return).
        self.server.stop();
        tracing::info!("stop requested: running operations cancelled");
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

fn capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        plan_destroy: false,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

fn no_ephemeral(type_name: &str) -> Vec<pb::Diagnostic> {
    error_diag(
        "Unknown Ephemeral Resource Type",
        format!(
            "This provider has no ephemeral resources, so {type_name:?} is not one. Check the \
             resource type name."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{
        Block, ConfigureRequest, ConfigureResponse, Ctx, DataSource, Resource, Schema,
    };

    struct Empty;

    #[async_trait::async_trait]
    impl crate::framework::Provider for Empty {
        fn type_name(&self) -> &'static str {
            "rdsenc"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new("p"))
        }
        async fn configure(&self, _: &Ctx, _: ConfigureRequest, _: &mut ConfigureResponse) {}
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            Vec::new()
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            Vec::new()
        }
    }

    fn svc() -> GrpcProvider {
        GrpcProvider::new(
            Arc::new(ProviderServer::new(Arc::new(Empty))),
            Arc::default(),
        )
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_waits_for_running_requests_only() {
        let f = Arc::new(InFlight::default());
        tokio::time::timeout(std::time::Duration::from_millis(1), f.idle())
            .await
            .expect("idle at once with nothing running");
        let busy = f.enter();
        let waiting = tokio::spawn({
            let f = f.clone();
            async move { f.idle().await }
        });
        tokio::time::sleep(std::time::Duration::from_secs(60)).await;
        assert!(!waiting.is_finished());
        drop(busy);
        tokio::time::timeout(std::time::Duration::from_millis(1), waiting)
            .await
            .expect("idle after the request ends")
            .expect("join");
    }

    #[tokio::test]
    async fn schema_advertises_no_plan_destroy_and_no_optional_schema() {
        let r = svc()
            .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
            .await
            .expect("ok")
            .into_inner();
        let caps = r.server_capabilities.expect("caps");
        assert!(!caps.plan_destroy && !caps.get_provider_schema_optional);
        assert!(r.provider.is_some());
    }

    #[tokio::test]
    async fn every_rpc_of_protocol_6_8_answers_ok_even_for_empty_requests() {
        let s = svc();
        macro_rules! ok {
            ($method:ident, $req:expr) => {
                assert!(
                    s.$method(Request::new($req)).await.is_ok(),
                    stringify!($method)
                );
            };
        }
        ok!(get_metadata, pb::get_metadata::Request {});
        ok!(get_provider_schema, pb::get_provider_schema::Request {});
        ok!(validate_provider_config, Default::default());
        ok!(validate_resource_config, Default::default());
        ok!(validate_data_resource_config, Default::default());
        ok!(upgrade_resource_state, Default::default());
        ok!(configure_provider, Default::default());
        ok!(read_resource, Default::default());
        ok!(plan_resource_change, Default::default());
        ok!(apply_resource_change, Default::default());
        ok!(import_resource_state, Default::default());
        ok!(move_resource_state, Default::default());
        ok!(read_data_source, Default::default());
        ok!(validate_ephemeral_resource_config, Default::default());
        ok!(open_ephemeral_resource, Default::default());
        ok!(renew_ephemeral_resource, Default::default());
        ok!(close_ephemeral_resource, Default::default());
        ok!(get_functions, pb::get_functions::Request {});
        ok!(call_function, Default::default());
        ok!(stop_provider, pb::stop_provider::Request {});
    }

    #[tokio::test]
    async fn unsupported_rpcs_answer_with_diagnostics_not_status_errors() {
        let s = svc();
        let m = s
            .move_resource_state(Request::new(pb::move_resource_state::Request::default()))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(m.diagnostics.len(), 1);
        let e = s
            .open_ephemeral_resource(Request::new(pb::open_ephemeral_resource::Request::default()))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(e.diagnostics[0].summary, "Unknown Ephemeral Resource Type");
        let f = s
            .call_function(Request::new(pb::call_function::Request::default()))
            .await
            .expect("ok")
            .into_inner();
        assert!(f.error.is_some());
        let g = s
            .get_functions(Request::new(pb::get_functions::Request {}))
            .await
            .expect("ok")
            .into_inner();
        assert!(g.functions.is_empty() && g.diagnostics.is_empty());
        let p = s
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "rdsenc_nope".into(),
                ..Default::default()
            }))
            .await
            .expect("ok")
            .into_inner();
        assert_eq!(p.diagnostics[0].summary, "Unknown Resource Type");
    }
}
