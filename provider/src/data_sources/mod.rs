//! Data sources.

pub mod db_instance;
