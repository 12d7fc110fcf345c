//! TEMPORARY provider so the plugin server can be built and tested on its own branch
//! (an `rdsenc_echo` data source and an `rdsenc_echo` resource that keeps everything in
//! state and touches nothing remote).
//! The lead replaces this file with the real `RdsencProvider`; only [`new_provider`]'s
//! signature is the contract `main.rs` relies on.

use std::sync::Arc;

use async_trait::async_trait;

use crate::framework::{
    ApplyRequest, ApplyResponse, Attribute, Block, ConfigureRequest, ConfigureResponse, Ctx,
    DataSource, DeleteRequest, ImportRequest, ImportResponse, NestedBlock, Provider,
    ReadDataRequest, ReadDataResponse, ReadRequest, ReadResponse, Resource, Schema, Value,
};

/// The provider `main.rs` serves.
pub fn new_provider() -> Arc<dyn Provider> {
    Arc::new(TemporaryProvider)
}

/// Empty provider schema, no resources, one `rdsenc_echo` data source.
struct TemporaryProvider;

#[async_trait]
impl Provider for TemporaryProvider {
    fn type_name(&self) -> &'static str {
        "rdsenc"
    }
    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "Temporary provider schema (replaced by the real provider).",
        ))
    }
    async fn configure(&self, _ctx: &Ctx, _req: ConfigureRequest, _resp: &mut ConfigureResponse) {}
    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(EchoResource)]
    }
    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(Echo)]
    }
}

/// `rdsenc_echo`: returns its `input` as `output` (exercises the protocol end to end).
struct Echo;

#[async_trait]
impl DataSource for Echo {
    fn type_name(&self) -> &'static str {
        "rdsenc_echo"
    }
    fn schema(&self) -> Schema {
        Schema::new(
            Block::new("Echoes `input` back as `output`. Temporary test data source.")
                .attribute(
                    Attribute::string("input")
                        .required()
                        .description("Any text."),
                )
                .attribute(
                    Attribute::string("output")
                        .computed()
                        .description("The same text."),
                ),
        )
    }
    async fn read(&self, _ctx: &Ctx, req: ReadDataRequest, resp: &mut ReadDataResponse) {
        resp.state.set("output", req.config.get("input").clone());
    }
}

/// `rdsenc_echo` resource: state only. Exercises computed, write-only, requires-replace
/// and nested-block handling of the plugin server against real Terraform.
struct EchoResource;

fn echo_resource_schema() -> Schema {
    Schema::new(
        Block::new("Keeps its arguments in state. Temporary test resource.")
            .attribute(
                Attribute::string("id")
                    .computed()
                    .description("Derived from `name`."),
            )
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .description("Changing it replaces the resource."),
            )
            .attribute(
                Attribute::string("secret")
                    .optional()
                    .write_only()
                    .description("Write-only."),
            )
            .attribute(
                Attribute::number("size")
                    .optional()
                    .computed()
                    .description("Defaults to 1."),
            )
            .block(NestedBlock::single(
                "extra",
                Block::new("Nested block.")
                    .attribute(Attribute::string("note").optional())
                    .attribute(Attribute::string("echo").computed()),
            )),
    )
}

impl EchoResource {
    fn fill(state: &mut Value, config: &Value) {
        let name = state
            .get("name")
            .as_str()
            .value()
            .unwrap_or_default()
            .to_owned();
        state.set("id", Value::string(format!("echo-{name}")));
        if state.get("size").is_unknown() {
            state.set("size", Value::int(1));
        }
        let had_secret = !config.get("secret").is_null();
        if let Some(extra) = state.get_mut("extra")
            && extra.get("echo").is_unknown()
        {
            let note = extra
                .get("note")
                .as_str()
                .value()
                .unwrap_or_default()
                .to_owned();
            extra.set(
                "echo",
                Value::string(format!("{note} (secret given: {had_secret})")),
            );
        }
    }
}

#[async_trait]
impl Resource for EchoResource {
    fn type_name(&self) -> &'static str {
        "rdsenc_echo"
    }
    fn schema(&self) -> Schema {
        echo_resource_schema()
    }
    async fn create(&self, _ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse) {
        Self::fill(&mut resp.new_state, &req.config);
    }
    async fn read(&self, _ctx: &Ctx, _req: ReadRequest, _resp: &mut ReadResponse) {}
    async fn update(&self, _ctx: &Ctx, req: ApplyRequest, resp: &mut ApplyResponse) {
        Self::fill(&mut resp.new_state, &req.config);
    }
    async fn delete(&self, _ctx: &Ctx, _req: DeleteRequest, _resp: &mut ApplyResponse) {}
    async fn import(&self, _ctx: &Ctx, req: ImportRequest, resp: &mut ImportResponse) {
        let mut v = echo_resource_schema().block.empty_value();
        v.set("id", Value::string(format!("echo-{}", req.id)));
        v.set("name", Value::string(req.id));
        v.set("size", Value::int(1));
        resp.state = v;
    }
}
