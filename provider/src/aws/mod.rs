//! AWS access: one module per service with finders (not-found normalised), typed status enums
//! and small declarative waiters.

pub mod error;

pub use error::AwsError;
