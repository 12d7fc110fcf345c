//! The domain's view of a failed AWS call: callers only ask `is_not_found()` or
//! `is_transient()`, never compare error-code strings themselves. Mapping SDK errors onto it
//! is the provider's `aws::error`; the engine never sees the SDK.

/// An AWS call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsError {
    /// The object does not exist (a not-found fault, or an empty describe result).
    #[error("{kind} ({id}) not found")]
    NotFound {
        /// What was looked for, e.g. "RDS DB Instance".
        kind: &'static str,
        /// The identifier or ARN.
        id: String,
    },
    /// A describe by unique id returned more than one object.
    #[error("{kind} ({id}): expected one result, got {count}")]
    TooManyResults {
        /// What was looked for.
        kind: &'static str,
        /// The identifier.
        id: String,
        /// How many came back.
        count: usize,
    },
    /// Creating an object whose identifier is taken.
    #[error("{code}: {message}")]
    AlreadyExists {
        /// The AWS error code, e.g. `DBInstanceAlreadyExists`.
        code: String,
        /// The AWS message.
        message: String,
    },
    /// The object exists but is not in a state that allows the call (often transient).
    #[error("{code}: {message}")]
    InvalidState {
        /// The AWS error code, e.g. `InvalidDBInstanceState`.
        code: String,
        /// The AWS message.
        message: String,
    },
    /// AWS throttled the call after the SDK's own retries.
    #[error("throttled by AWS ({code}): {message}")]
    Throttled {
        /// The AWS error code.
        code: String,
        /// The AWS message.
        message: String,
    },
    /// Any other service error.
    #[error("{code}: {message}")]
    Service {
        /// The AWS error code (or "Unknown").
        code: String,
        /// The AWS message.
        message: String,
        /// HTTP status, when known; 5xx is transient.
        status: Option<u16>,
    },
    /// The request never got a usable answer (connection, timeout, unparseable response).
    #[error("{0}")]
    Transport(String),
}

impl AwsError {
    /// True when the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    /// True when retrying later may succeed (throttling, 5xx, connection trouble, an object
    /// busy in another state). Configuration mistakes are not transient.
    pub fn is_transient(&self) -> bool {
        match self {
            AwsError::Throttled { .. } | AwsError::Transport(_) | AwsError::InvalidState { .. } => {
                true
            }
            AwsError::Service { status, .. } => status.is_some_and(|s| s >= 500),
            _ => false,
        }
    }

    /// The AWS error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            AwsError::AlreadyExists { code, .. }
            | AwsError::InvalidState { code, .. }
            | AwsError::Throttled { code, .. }
            | AwsError::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_server_errors_are_transient_but_not_found_is_not() {
        assert!(
            AwsError::Throttled {
                code: "Throttling".into(),
                message: String::new()
            }
            .is_transient()
        );
        assert!(
            AwsError::Service {
                code: "X".into(),
                message: String::new(),
                status: Some(503)
            }
            .is_transient()
        );
        assert!(
            !AwsError::Service {
                code: "X".into(),
                message: String::new(),
                status: Some(400)
            }
            .is_transient()
        );
        let nf = AwsError::NotFound {
            kind: "RDS DB Instance",
            id: "orders".into(),
        };
        assert!(nf.is_not_found() && !nf.is_transient());
        assert_eq!(nf.to_string(), "RDS DB Instance (orders) not found");
    }
}
