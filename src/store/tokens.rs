//! API tokens: created by the CLI, checked on every mutation.
//!
//! A token is 32 random bytes, shown once. Only its SHA-256 digest is stored:
//! the token has full entropy, so a slow password hash would add latency to
//! every request and no protection.
//!
//! A mutation does not look its token up before appending: the append
//! statement itself checks that the token is live, in the same snapshot as
//! its insert, so a revoked token fails from the next append on without a
//! round trip of its own. Only the token's name (which never changes for a
//! given token) is looked up once and kept.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Store, StoreError};

const TOKEN_PREFIX: &str = "sl_";

/// How many tokens' names a process keeps.
const KNOWN_TOKENS: usize = 1024;

/// The authenticated caller; its name goes into every event's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
}

/// The stored form of a token: its SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    pub fn of(token: &str) -> TokenDigest {
        TokenDigest(Sha256::digest(token.as_bytes()).into())
    }

    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// A token that was live when first seen, with its name. Appends made with
/// it check again that it is still live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub principal: Principal,
    pub(super) digest: TokenDigest,
}

/// Names of tokens seen live, by digest. A revoked token may stay here:
/// every append re-checks liveness in SQL.
#[derive(Clone)]
pub(super) struct KnownTokens(Arc<Mutex<LruCache<TokenDigest, String>>>);

impl KnownTokens {
    pub(super) fn new() -> KnownTokens {
        let capacity = NonZeroUsize::new(KNOWN_TOKENS).unwrap_or(NonZeroUsize::MIN);
        KnownTokens(Arc::new(Mutex::new(LruCache::new(capacity))))
    }

    fn name_of(&self, digest: &TokenDigest) -> Option<String> {
        let mut known = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.get(digest).cloned()
    }

    fn remember(&self, digest: TokenDigest, name: &str) {
        let mut known = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.put(digest, name.to_owned());
    }
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
        let inserted = sqlx::query(sql!("tokens/create"))
            .bind(Uuid::now_v7())
            .bind(name)
            .bind(TokenDigest::of(&token).as_bytes())
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
        let revoked = sqlx::query(sql!("tokens/revoke"))
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
        let digest = TokenDigest::of(token);
        Ok(self.live_token_name(&digest).await?.map(|name| {
            self.known_tokens.remember(digest, &name);
            Principal { name }
        }))
    }

    /// A credential for appending with `token`, or `None` for a token that
    /// is unknown or revoked. Without a database round trip for a token seen
    /// live before: [`Store::append_as`] checks it is still live.
    pub async fn credential(&self, token: &str) -> Result<Option<Credential>, StoreError> {
        let digest = TokenDigest::of(token);
        let name = match self.known_tokens.name_of(&digest) {
            Some(name) => Some(name),
            None => self.authenticate(token).await?.map(|p| p.name),
        };
        Ok(name.map(|name| Credential {
            principal: Principal { name },
            digest,
        }))
    }

    /// Whether the credential's token is live now (not revoked since it
    /// was seen).
    pub async fn is_credential_live(&self, credential: &Credential) -> Result<bool, StoreError> {
        self.is_live(&credential.digest).await
    }

    /// Whether the token behind `digest` is live now.
    pub(super) async fn is_live(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self.live_token_name(digest).await?.is_some())
    }

    async fn live_token_name(&self, digest: &TokenDigest) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(sql!("tokens/live_name"))
            .bind(digest.as_bytes())
            .fetch_optional(&self.pool)
            .await?)
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
        assert_eq!(TokenDigest::of("sl_x"), TokenDigest::of("sl_x"));
        assert_ne!(TokenDigest::of("sl_x"), TokenDigest::of("sl_y"));
        assert_ne!(TokenDigest::of("sl_x").as_bytes(), b"sl_x");
    }
}
