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
    pub scope: Scope,
}

/// What a token may do (DESIGN §10): `Read` queries and subscribes;
/// `Write` may also append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    Read,
    #[default]
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
        }
    }

    /// The scope stored as `text`; anything unknown grants the least.
    fn from_stored(text: &str) -> Scope {
        match text {
            "write" => Scope::Write,
            _ => Scope::Read,
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = TokenError;

    fn from_str(text: &str) -> Result<Scope, TokenError> {
        match text.trim() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            other => Err(TokenError::UnknownScope(other.to_owned())),
        }
    }
}

/// A token as `storyline token list` shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenListing {
    pub name: String,
    pub scope: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
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
pub(super) struct KnownTokens(Arc<Mutex<LruCache<TokenDigest, Principal>>>);

impl KnownTokens {
    pub(super) fn new() -> KnownTokens {
        let capacity = NonZeroUsize::new(KNOWN_TOKENS).unwrap_or(NonZeroUsize::MIN);
        KnownTokens(Arc::new(Mutex::new(LruCache::new(capacity))))
    }

    fn principal_of(&self, digest: &TokenDigest) -> Option<Principal> {
        let mut known = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.get(digest).cloned()
    }

    fn remember(&self, digest: TokenDigest, principal: &Principal) {
        let mut known = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.put(digest, principal.clone());
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
    #[error("unknown scope {0:?}; the scopes are read and write")]
    UnknownScope(String),
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
    pub async fn create_token(&self, name: &str, scope: Scope) -> Result<String, TokenError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(TokenError::EmptyName);
        }
        let token = generate_token()?;
        let inserted = sqlx::query(sql!("tokens/create"))
            .bind(Uuid::now_v7())
            .bind(name)
            .bind(TokenDigest::of(&token).as_bytes())
            .bind(scope.as_str())
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

    /// Every token, newest first, as `storyline token list` shows them.
    pub async fn list_tokens(&self) -> Result<Vec<TokenListing>, StoreError> {
        Ok(sqlx::query_as(sql!("tokens/list"))
            .fetch_all(&self.pool)
            .await?)
    }

    /// The principal behind a live token, or `None` for an unknown or revoked
    /// one. Asks the database every time: a request carrying a token is
    /// refused as soon as it is revoked.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Principal>, StoreError> {
        let digest = TokenDigest::of(token);
        Ok(self
            .live_principal(&digest)
            .await?
            .inspect(|principal| self.known_tokens.remember(digest, principal)))
    }

    /// A credential for appending with `token`, or `None` for a token that
    /// is unknown or revoked. Without a database round trip for a token seen
    /// live before: [`Store::append_as`] checks it is still live.
    pub async fn credential(&self, token: &str) -> Result<Option<Credential>, StoreError> {
        let digest = TokenDigest::of(token);
        let principal = match self.known_tokens.principal_of(&digest) {
            Some(principal) => Some(principal),
            None => self.authenticate(token).await?,
        };
        Ok(principal.map(|principal| Credential { principal, digest }))
    }

    /// A credential for `token` if it is live now (checked in the
    /// database), or `None`.
    pub async fn live_credential(&self, token: &str) -> Result<Option<Credential>, StoreError> {
        let digest = TokenDigest::of(token);
        Ok(self
            .authenticate(token)
            .await?
            .map(|principal| Credential { principal, digest }))
    }

    /// Whether the credential's token is live now (not revoked since it
    /// was seen).
    pub async fn is_credential_live(&self, credential: &Credential) -> Result<bool, StoreError> {
        self.is_live(&credential.digest).await
    }

    /// Whether the token behind `digest` is live now.
    pub(super) async fn is_live(&self, digest: &TokenDigest) -> Result<bool, StoreError> {
        Ok(self.live_principal(digest).await?.is_some())
    }

    async fn live_principal(&self, digest: &TokenDigest) -> Result<Option<Principal>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(sql!("tokens/live_name"))
            .bind(digest.as_bytes())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(name, scope)| Principal {
            name,
            scope: Scope::from_stored(&scope),
        }))
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
