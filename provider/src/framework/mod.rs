//! The provider framework: values, schemas, diagnostics and the traits resources implement.
//! Nothing here knows protobuf or the AWS SDK; `protocol` adapts it to the wire.

pub mod diag;
pub mod docs;
pub mod path;
pub mod schema;
pub mod traits;
pub mod validator;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use path::{AttributePath, PathStep};
pub use schema::{Attribute, Block, NestedBlock, Nesting, Schema};
pub use traits::*;
pub use validator::{StringValidator, Validators};
pub use value::{Known, Number, Type, Value};
