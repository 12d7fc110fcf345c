//! SDK failures classified into the engine's [`AwsError`], so callers only ask `is_not_found()`
//! or `is_transient()`, never compare error-code strings themselves.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use rdsenc_engine::api::AwsError;

/// Throttling codes across the services we call (query, JSON and REST-XML protocols differ).
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
    "PriorRequestNotComplete",
];

/// An operation's error type from an AWS SDK crate, taught which of its *modelled* variants
/// mean "the object does not exist". Implemented per operation by the `operation_errors!` macro so the
/// not-found decision matches typed variants rather than code strings.
pub trait OperationError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    /// True when this is the operation's modelled not-found fault.
    fn is_not_found_fault(&self) -> bool;
}

/// Implements [`OperationError`] for SDK operation errors: `Type => Variant, Variant;` lists the
/// variants that mean not-found (none is allowed).
macro_rules! operation_errors {
    ($($ty:ty => $($variant:ident),*;)*) => {
        $(
            impl $crate::aws::error::OperationError for $ty {
                fn is_not_found_fault(&self) -> bool {
                    false $(|| matches!(self, Self::$variant(_)))*
                }
            }
        )*
    };
}
pub(crate) use operation_errors;

/// Converts an SDK failure for an object of `kind` identified by `id` (used for the
/// not-found message): modelled not-found faults become [`AwsError::NotFound`], everything
/// else is classified by [`classify`].
pub fn from_sdk<E: OperationError>(
    err: SdkError<E, HttpResponse>,
    kind: &'static str,
    id: impl Into<String>,
) -> AwsError {
    if let SdkError::ServiceError(service) = &err
        && service.err().is_not_found_fault()
    {
        return AwsError::NotFound {
            kind,
            id: id.into(),
        };
    }
    classify(err)
}

/// Classifies an SDK failure without object context: throttling codes -> `Throttled`,
/// `*AlreadyExists*` -> `AlreadyExists`, `Invalid*State*` -> `InvalidState`, no usable
/// response -> `Transport`, anything else -> `Service` with the HTTP status.
pub fn classify<E>(err: SdkError<E, HttpResponse>) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let inner = service.into_err();
            // A "service error" on a 2xx without an error code is a success response the
            // SDK could not read (e.g. moto's ISO dates where DMS sends epoch numbers).
            if status < 300 && inner.code().is_none() {
                return AwsError::Transport(format!(
                    "unreadable response (HTTP {status}): {}",
                    DisplayErrorContext(&inner)
                ));
            }
            let code = inner.code().unwrap_or("Unknown").to_owned();
            let message = match inner.message() {
                Some(m) => m.to_owned(),
                None => DisplayErrorContext(&inner).to_string(),
            };
            classify_code(code, message, Some(status))
        }
        SdkError::ConstructionFailure(_) => classify_code(
            "RequestConstructionFailed".to_owned(),
            DisplayErrorContext(&err).to_string(),
            None,
        ),
        // Timeouts, dispatch failures (connection refused, TLS) and unparseable responses
        // (an emulator's HTML error page) never reached a modelled answer.
        other => AwsError::Transport(DisplayErrorContext(&other).to_string()),
    }
}

/// A closure for `map_err` that converts with object context.
pub fn context<'a, E: OperationError>(
    kind: &'static str,
    id: &'a str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> AwsError + 'a {
    move |err| from_sdk(err, kind, id)
}

/// An SDK call's result with its failure converted with object context, as by [`from_sdk`]:
/// `request.send().await.about(kind, id)?`. A plain method, not a wrapping future, so the
/// adapter's futures (deep inside the engine's) stay as small as the SDK's own.
pub(crate) trait Classify<T> {
    /// The result, its failure converted for the `kind` object `id`.
    fn about(self, kind: &'static str, id: &str) -> Result<T, AwsError>;
}

impl<T, E: OperationError> Classify<T> for Result<T, SdkError<E, HttpResponse>> {
    fn about(self, kind: &'static str, id: &str) -> Result<T, AwsError> {
        self.map_err(|err| from_sdk(err, kind, id))
    }
}

/// `NotFound` for the object of `kind` identified by `id`.
pub(crate) fn not_found(kind: &'static str, id: &str) -> AwsError {
    AwsError::NotFound {
        kind,
        id: id.to_owned(),
    }
}

/// Codes meaning AWS did not accept the credentials themselves (not a missing permission).
/// Configuration makes no call, so the first real call is where these show.
const CREDENTIAL_CODES: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidSignatureException",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "MissingAuthenticationToken",
    "MissingAuthenticationTokenException",
    "ExpiredToken",
    "ExpiredTokenException",
    "AuthFailure",
];

/// Appended to credential failures: where the credentials came from.
pub const CREDENTIALS_HINT: &str = "AWS did not accept the credentials: check the credentials \
     source (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, the provider's `profile`, \
     `shared_credentials_files` and `assume_role`)";

/// Classifies by error code, for errors the operation does not model with a typed variant.
fn classify_code(code: String, message: String, status: Option<u16>) -> AwsError {
    let credentials = CREDENTIAL_CODES.contains(&code.as_str())
        || (code == "RequestConstructionFailed" && message.to_lowercase().contains("credential"));
    let message = if credentials {
        format!("{message}. {CREDENTIALS_HINT}")
    } else {
        message
    };
    if THROTTLING_CODES.contains(&code.as_str()) || status == Some(429) {
        AwsError::Throttled { code, message }
    } else if code.contains("AlreadyExists") {
        AwsError::AlreadyExists { code, message }
    } else if code.starts_with("Invalid") && code.contains("State") {
        AwsError::InvalidState { code, message }
    } else {
        AwsError::Service {
            code,
            message,
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_credentials_name_the_credential_sources_and_are_not_retried() {
        let e = classify_code(
            "InvalidClientTokenId".into(),
            "The security token included in the request is invalid".into(),
            Some(403),
        );
        let text = e.to_string();
        assert!(
            text.starts_with("InvalidClientTokenId: The security token"),
            "{text}"
        );
        assert!(
            text.contains("AWS_ACCESS_KEY_ID") && text.contains("`profile`"),
            "{text}"
        );
        assert!(!e.is_transient());
        let denied = classify_code("AccessDenied".into(), "not allowed".into(), Some(403));
        assert!(
            !denied.to_string().contains("credentials source"),
            "{denied}"
        );
    }
}
