//! Data sources.

pub mod db_instance;
pub mod preflight;
pub mod unencrypted_db_instances;
