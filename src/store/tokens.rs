//! API tokens: created by the CLI, checked on every mutation.
//!
//! A token is 32 random bytes, shown once. Only its SHA-256 digest is stored:
//! the token has full entropy, so a slow password hash would add latency to
//! every request and no protection.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Store, StoreError};

const TOKEN_PREFIX: &str = "sl_";

/// The authenticated caller; its name goes into every event's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the token name must not be empty")]
    EmptyName,
    #[error("a live token named {0:?} exists; revoke it first")]
    NameTaken(String),
    #[error("no live token is named {0:?}")]
    UnknownName(String),
    #[error("could not draw random bytes: {0}")]
    Randomness(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for TokenError {
    fn from(e: sqlx::Error) -> Self {
        TokenError::Store(e.into())
    }
}

impl Store {
    /// Creates a token named `name` and returns it; it is shown only here.
    pub async fn create_token(&self, name: &str) -> Result<String, TokenError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(TokenError::EmptyName);
        }
        let token = generate_token()?;
        let inserted = sqlx::query("INSERT INTO tokens (id, name, hash) VALUES ($1, $2, $3)")
            .bind(Uuid::now_v7())
            .bind(name)
            .bind(digest(&token))
            .execute(&self.pool)
            .await;
        match inserted {
            Ok(_) => Ok(token),
            Err(sqlx::Error::Database(e)) if e.constraint() == Some("tokens_live_name_key") => {
                Err(TokenError::NameTaken(name.to_owned()))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Revokes the live token named `name`; it fails from the next request on.
    pub async fn revoke_token(&self, name: &str) -> Result<(), TokenError> {
        let name = name.trim();
        let revoked = sqlx::query(
            "UPDATE tokens SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        if revoked.rows_affected() == 0 {
            return Err(TokenError::UnknownName(name.to_owned()));
        }
        Ok(())
    }

    /// The principal behind a live token, or `None` for an unknown or revoked
    /// one.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let name: Option<String> =
            sqlx::query_scalar("SELECT name FROM tokens WHERE hash = $1 AND revoked_at IS NULL")
                .bind(digest(token))
                .fetch_optional(&self.pool)
                .await?;
        Ok(name.map(|name| Principal { name }))
    }
}

fn generate_token() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| TokenError::Randomness(e.to_string()))?;
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + 64);
    token.push_str(TOKEN_PREFIX);
    for byte in bytes {
        token.push_str(&format!("{byte:02x}"));
    }
    Ok(token)
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_prefixed_hex_and_differ() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
        assert!(a[TOKEN_PREFIX.len()..]
            .chars()
            .all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn digest_is_stable_and_not_the_token() {
        assert_eq!(digest("sl_x"), digest("sl_x"));
        assert_ne!(digest("sl_x"), b"sl_x".to_vec());
        assert_eq!(digest("sl_x").len(), 32);
    }
}
