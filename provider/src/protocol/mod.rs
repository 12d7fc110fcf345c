//! The Terraform plugin protocol (tfplugin6.8 over go-plugin): handshake, mTLS, the gRPC
//! service and the msgpack/JSON value codecs. Generated protobuf types stay inside this
//! module; everything else sees [`crate::framework`] types only.

#[allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    rust_2018_idioms
)]
mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(
    dead_code,
    missing_docs,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    rust_2018_idioms
)]
mod goplugin {
    tonic::include_proto!("plugin");
}

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
