//! Tokens: created once, stored hashed, revocable.

use storyline::store::{Store, TokenError};

#[sqlx::test]
async fn a_created_token_authenticates_as_its_name_until_revoked(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let token = store.create_token("  desk ").await.unwrap();
    let principal = store
        .authenticate(&token)
        .await
        .unwrap()
        .expect("live token");
    assert_eq!(principal.name, "desk", "names are trimmed");

    store.revoke_token("desk").await.unwrap();
    assert!(store.authenticate(&token).await.unwrap().is_none());
}

#[sqlx::test]
async fn the_raw_token_is_stored_nowhere(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let token = store.create_token("desk").await.unwrap();
    let dump: String = sqlx::query_scalar("SELECT string_agg(t::text, ',') FROM tokens t")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!dump.contains(&token[3..]), "only a hash is stored");
}

#[sqlx::test]
async fn names_are_unique_among_live_tokens_and_reusable_after_revocation(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    store.create_token("desk").await.unwrap();
    assert!(matches!(
        store.create_token("desk").await,
        Err(TokenError::NameTaken(_))
    ));
    store.revoke_token("desk").await.unwrap();
    let again = store.create_token("desk").await.unwrap();
    assert!(store.authenticate(&again).await.unwrap().is_some());
}

#[sqlx::test]
async fn unknown_tokens_and_names_are_refused(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    assert!(store.authenticate("sl_nope").await.unwrap().is_none());
    assert!(matches!(
        store.revoke_token("ghost").await,
        Err(TokenError::UnknownName(_))
    ));
    assert!(matches!(
        store.create_token("   ").await,
        Err(TokenError::EmptyName)
    ));
}
