//! Compiles the vendored plugin-protocol definitions (`../proto`) into tonic server code.
//! protoc comes from the `protoc-bin-vendored` crate, so a fresh clone builds without any
//! system package.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Read at run time: `env!` would bake in the directory the script was first compiled in,
    // and a target directory copied to another checkout would then read that one's protos.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").ok_or("CARGO_MANIFEST_DIR unset")?;
    let proto_dir = PathBuf::from(manifest_dir).join("../proto");
    let protos = [
        proto_dir.join("tfplugin6.8.proto"),
        proto_dir.join("grpc_controller.proto"),
        proto_dir.join("grpc_stdio.proto"),
    ];
    // The well-known types (timestamp, empty) ship next to the vendored protoc.
    let includes = [proto_dir.clone(), protoc_bin_vendored::include_path()?];

    let mut config = tonic_prost_build::Config::new();
    // Passed explicitly instead of through the PROTOC variable: setting the environment
    // of the build script process is `unsafe` in edition 2024.
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);

    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .compile_with_config(config, &protos, &includes)?;

    for p in &protos {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    Ok(())
}
