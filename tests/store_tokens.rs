//! Tokens: created once, stored hashed, revocable.

mod common;

use storyline::domain::events::{StoryEvent, StoryStatusChanged};
use storyline::domain::model::StoryStatus;
use storyline::domain::Version;
use storyline::store::{EventMetadata, NewEvent, Store, StoreError, TokenError};

#[sqlx::test]
async fn a_created_token_authenticates_as_its_name_until_revoked(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    let token = store
        .create_token("  desk ", storyline::store::Scope::Write)
        .await
        .unwrap();
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
    let token = store
        .create_token("desk", storyline::store::Scope::Write)
        .await
        .unwrap();
    let dump: String = sqlx::query_scalar("SELECT string_agg(t::text, ',') FROM tokens t")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(!dump.contains(&token[3..]), "only a hash is stored");
}

#[sqlx::test]
async fn names_are_unique_among_live_tokens_and_reusable_after_revocation(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool);
    store
        .create_token("desk", storyline::store::Scope::Write)
        .await
        .unwrap();
    assert!(matches!(
        store
            .create_token("desk", storyline::store::Scope::Write)
            .await,
        Err(TokenError::NameTaken(_))
    ));
    store.revoke_token("desk").await.unwrap();
    let again = store
        .create_token("desk", storyline::store::Scope::Write)
        .await
        .unwrap();
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
        store
            .create_token("   ", storyline::store::Scope::Write)
            .await,
        Err(TokenError::EmptyName)
    ));
}

#[sqlx::test]
async fn appends_with_a_token_revoked_after_it_was_seen_are_refused_and_write_nothing(
    pool: sqlx::PgPool,
) {
    let store = Store::from_pool(pool);
    let story = common::opened_story(&store).await;
    let token = store
        .create_token("desk", storyline::store::Scope::Write)
        .await
        .unwrap();
    let credential = store.credential(&token).await.unwrap().expect("live");
    assert_eq!(credential.principal.name, "desk");
    let by_desk = EventMetadata::by("desk");
    store
        .append_as(
            &credential,
            story,
            None,
            &[common::development("seen")],
            &by_desk,
        )
        .await
        .expect("a live token appends");

    store.revoke_token("desk").await.unwrap();
    // The name stays known; liveness is checked by the append itself.
    let known = store.credential(&token).await.unwrap().expect("name known");
    let status = StoryEvent::StoryStatusChanged(StoryStatusChanged {
        schema_version: 1,
        status: StoryStatus::Concluded,
        reason: None,
    });
    for event in [
        common::development("after revocation"),
        NewEvent::from_event(&status, None),
    ] {
        let refused = store
            .append_as(&known, story, None, &[event], &by_desk)
            .await;
        assert!(
            matches!(refused, Err(StoreError::TokenNotLive)),
            "{refused:?}"
        );
    }
    assert_eq!(store.current_version(story).await.unwrap(), Version(2));
    assert!(store.credential("sl_never_issued").await.unwrap().is_none());
}
