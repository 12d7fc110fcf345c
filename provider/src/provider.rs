//! TEMPORARY provider so the plugin server can be built and tested on its own branch.
//! The lead replaces this file with the real `RdsencProvider`; only [`new_provider`]'s
//! signature is the contract `main.rs` relies on.

use std::sync::Arc;

use async_trait::async_trait;

use crate::framework::{
    Attribute, Block, ConfigureRequest, ConfigureResponse, Ctx, DataSource, Provider,
    ReadDataRequest, ReadDataResponse, Resource, Schema,
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
        Vec::new()
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
