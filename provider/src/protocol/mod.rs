//! The Terraform plugin protocol (tfplugin6.8 over go-plugin): handshake, mTLS, the gRPC
//! service and the msgpack/JSON value codecs. Generated protobuf types stay inside this
//! module; everything else sees [`crate::framework`] types only.

/// The generated protobuf code, exempt from the workspace lints (it is not ours to change).
#[allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    rust_2018_idioms
)]
mod generated {
    pub(super) mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub(super) mod goplugin {
        tonic::include_proto!("plugin");
    }
}
use generated::{goplugin, tfplugin6};

mod from_proto;
mod grpc;
mod handshake;
pub mod json;
mod logging;
pub mod msgpack;
mod plugin;
mod server;
mod to_proto;

pub use plugin::serve;
