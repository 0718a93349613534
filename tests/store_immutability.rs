//! Events cannot be changed or removed, by anyone.

mod common;

use common::opened_story;
use storyline::store::Store;

async fn refused(pool: &sqlx::PgPool, statement: &str) -> String {
    match sqlx::query(statement).execute(pool).await {
        Ok(done) => panic!("{statement} succeeded on {} rows", done.rows_affected()),
        Err(sqlx::Error::Database(e)) => e.message().to_owned(),
        Err(other) => panic!("{statement} failed unexpectedly: {other}"),
    }
}

#[sqlx::test]
async fn update_delete_and_truncate_of_events_are_rejected(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    opened_story(&store).await;
    for statement in [
        "UPDATE events SET payload = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
    ] {
        let message = refused(&pool, statement).await;
        assert!(message.contains("immutable"), "{statement}: {message}");
    }
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test]
async fn replication_role_replica_does_not_bypass_immutability(pool: sqlx::PgPool) {
    let store = Store::from_pool(pool.clone());
    opened_story(&store).await;
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    let deleted = sqlx::query("DELETE FROM events").execute(&mut *conn).await;
    assert!(deleted.is_err(), "delete under replica role must fail");
    sqlx::query("RESET session_replication_role")
        .execute(&mut *conn)
        .await
        .unwrap();
}
