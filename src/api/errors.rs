//! The one place where domain and store errors become the contract's error
//! codes (`errors[].extensions.code`). Nothing below the API's own messages
//! reaches a client: database and driver errors are logged and answered
//! with INTERNAL_SERVER_ERROR.

use async_graphql::ErrorExtensions;

use crate::domain::fold::FoldError;
use crate::domain::validate::InvalidInput;
use crate::domain::Version;
use crate::store::{StoreError, TokenError};

/// The contract's error codes.
pub mod code {
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    pub const FORBIDDEN: &str = "FORBIDDEN";
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const VERSION_CONFLICT: &str = "VERSION_CONFLICT";
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    pub const GRAPHQL_PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
    pub const UNAVAILABLE: &str = "UNAVAILABLE";
}

/// What an UNAVAILABLE answer suggests waiting before a retry.
pub const RETRY_AFTER_SECONDS: i32 = 1;

/// An error as a client sees it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// A live token without the scope the operation needs.
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadUserInput(String),
    #[error("{0}")]
    NotFound(String),
    #[error("expected version {expected} but the story is at version {actual}")]
    VersionConflict { expected: Version, actual: Version },
    #[error("{0}")]
    Internal(&'static str),
    /// The database could not be reached or did not answer in time.
    #[error("{0}")]
    Unavailable(&'static str),
}

/// Why a read failed when the database was out of reach or too slow.
pub const UNAVAILABLE_READ: &str =
    "the database is unreachable or did not answer in time; nothing was read: retry";

/// Why a mutation failed so: it may or may not have been appended.
pub const UNAVAILABLE_WRITE: &str = "the database is unreachable or did not answer in time; \
     the outcome is unknown: retry with the same eventId";

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn bad_input(message: impl Into<String>) -> ApiError {
        ApiError::BadUserInput(message.into())
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated(_) => code::UNAUTHENTICATED,
            ApiError::Forbidden(_) => code::FORBIDDEN,
            ApiError::BadUserInput(_) => code::BAD_USER_INPUT,
            ApiError::NotFound(_) => code::NOT_FOUND,
            ApiError::VersionConflict { .. } => code::VERSION_CONFLICT,
            ApiError::Internal(_) => code::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(_) => code::UNAVAILABLE,
        }
    }
}

impl ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        async_graphql::Error::new(self.to_string()).extend_with(|_, extensions| {
            extensions.set("code", self.code());
            match self {
                ApiError::VersionConflict { expected, actual } => {
                    extensions.set("expectedVersion", expected.0);
                    extensions.set("actualVersion", actual.0);
                }
                ApiError::Unavailable(_) => {
                    extensions.set("retryAfterSeconds", RETRY_AFTER_SECONDS)
                }
                _ => {}
            }
        })
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        error.extend()
    }
}

impl From<InvalidInput> for ApiError {
    fn from(error: InvalidInput) -> Self {
        ApiError::BadUserInput(error.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            // A story at version 0 has no events: it does not exist.
            StoreError::VersionConflict { actual, .. } if actual == Version::EMPTY => {
                story_not_found()
            }
            StoreError::VersionConflict { expected, actual } => {
                ApiError::VersionConflict { expected, actual }
            }
            StoreError::Rule(FoldError::NotOpened) => story_not_found(),
            StoreError::Rule(FoldError::VersionGap { .. }) => internal(&error),
            StoreError::Rule(rule) => ApiError::BadUserInput(rule.to_string()),
            StoreError::EventIdReused(_)
            | StoreError::SlugTaken(_)
            | StoreError::EventIdRepeated(_)
            | StoreError::EmptyAppend
            | StoreError::TooManyEvents
            | StoreError::Search(_)
            | StoreError::ReportIdentityClash => ApiError::BadUserInput(error.to_string()),
            StoreError::UnknownReport(_) => ApiError::NotFound(error.to_string()),
            // The database out of reach or too slow, or too busy to settle:
            // the same request may succeed later.
            StoreError::NotSettled | StoreError::Contention => unavailable(&error),
            StoreError::Database(_) if error.is_unavailable() => unavailable(&error),
            StoreError::TokenNotLive => ApiError::Unauthenticated(TOKEN_NOT_LIVE),
            // Only stored events fail to decode (input is decoded before it
            // is stored): a fault of the data, not of the request.
            StoreError::Undecodable(_) => {
                tracing::error!(%error, "a stored event cannot be read");
                ApiError::Internal(UNREADABLE_EVENT)
            }
            StoreError::Database(_) | StoreError::Offload(_) => internal(&error),
        }
    }
}

/// Why a story that holds an event this code cannot read fails.
pub const UNREADABLE_EVENT: &str =
    "the story holds an event this server cannot read; `storyline verify` lists it";

/// Why a token does not authenticate; the same words whether it was never
/// issued or was revoked, so that the answer tells a guesser nothing.
pub const TOKEN_NOT_LIVE: &str = "the token is unknown or revoked";

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        match error {
            TokenError::Store(e) => e.into(),
            other => internal(&other),
        }
    }
}

fn unavailable(error: &StoreError) -> ApiError {
    tracing::warn!(%error, "database unavailable");
    ApiError::Unavailable(UNAVAILABLE_READ)
}

fn story_not_found() -> ApiError {
    ApiError::NotFound("no story has this id".into())
}

/// Logs what went wrong in full, tells the client only that it did.
fn internal(error: &dyn std::error::Error) -> ApiError {
    tracing::error!(%error, "internal error");
    ApiError::Internal("internal server error")
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::Value;

    fn extensions_of(error: ApiError) -> async_graphql::ErrorExtensionValues {
        error.extend().extensions.unwrap_or_default()
    }

    #[test]
    fn version_conflict_carries_both_versions() {
        let error: ApiError = StoreError::VersionConflict {
            expected: Version(3),
            actual: Version(5),
        }
        .into();
        let extensions = extensions_of(error);
        assert_eq!(
            extensions.get("code"),
            Some(&Value::from("VERSION_CONFLICT"))
        );
        assert_eq!(extensions.get("expectedVersion"), Some(&Value::from(3)));
        assert_eq!(extensions.get("actualVersion"), Some(&Value::from(5)));
    }

    #[test]
    fn appending_to_a_story_that_does_not_exist_is_not_found() {
        let conflict = StoreError::VersionConflict {
            expected: Version(2),
            actual: Version::EMPTY,
        };
        assert_eq!(ApiError::from(conflict).code(), code::NOT_FOUND);
        let unopened = StoreError::Rule(FoldError::NotOpened);
        assert_eq!(ApiError::from(unopened).code(), code::NOT_FOUND);
    }

    #[test]
    fn database_errors_do_not_leak_their_text() {
        let error: ApiError =
            StoreError::Database(sqlx::Error::Protocol("SELECT secret FROM t".into())).into();
        assert_eq!(error.code(), code::INTERNAL_SERVER_ERROR);
        assert!(!error.to_string().contains("SELECT"));
    }
}
