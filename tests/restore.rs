//! A backup restored into a fresh cluster: positions come from transaction
//! ids, which start far lower in a new cluster. The restored database must
//! export whole as the first command run on it, take appends above every
//! stored position and show them in the feed in order.
//!
//! The test starts a PostgreSQL cluster of its own (initdb in a temporary
//! folder, on a free port, as the `postgres` user) and stops it at the end;
//! the shared cluster is only read from (pg_dump).

mod common;

use std::path::Path;
use std::process::Command;

use common::cluster::{run, PrivateCluster, PG_BIN};
use sqlx::PgPool;
use storyline::domain::{Position, StoryId, Version};
use storyline::store::{ConnectOptions, EventMetadata, FeedFilter, NewEvent, Store};

fn dump(source_url: &str, file: &Path) {
    run(Command::new(format!("{PG_BIN}/pg_dump"))
        .args(["-Fc", "-f"])
        .arg(file)
        .arg(source_url));
}

#[sqlx::test]
async fn a_dump_restored_into_a_fresh_cluster_exports_whole_and_takes_appends(pool: PgPool) {
    let cluster = PrivateCluster::start();
    // The defect needs stored positions ahead of the fresh cluster's
    // transaction ids, as they are after any real use; a young shared
    // cluster is moved on until they are.
    let fresh_xid: i64 = run(Command::new(format!("{PG_BIN}/psql"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            "postgres",
        ])
        .args([
            "-tAc",
            "SELECT pg_current_xact_id()::text::bigint",
            "postgres",
        ]))
    .trim()
    .parse()
    .unwrap();
    loop {
        let xid: i64 = sqlx::query_scalar("SELECT pg_current_xact_id()::text::bigint")
            .fetch_one(&pool)
            .await
            .unwrap();
        if xid > fresh_xid + 10_000 {
            break;
        }
    }
    let source = Store::from_pool(pool.clone());
    let demo = storyline::exchange::load_demo(&source).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(stored >= 10, "{demo:?}");
    let database = pool.connect_options().get_database().unwrap().to_owned();
    let source_url = format!("postgres://postgres@127.0.0.1:5432/{database}");

    let file = cluster.dir.join("backup.dump");
    dump(&source_url, &file);
    let target = cluster.url("restored");
    run(Command::new(format!("{PG_BIN}/createdb")).args([
        "-h",
        "127.0.0.1",
        "-p",
        &cluster.port.to_string(),
        "-U",
        "postgres",
        "restored",
    ]));
    run(Command::new(format!("{PG_BIN}/pg_restore"))
        .args(["--no-owner", "-d", &target])
        .arg(&file));

    // The first command run on the restored database.
    let exported = run(Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("export")
        .env("DATABASE_URL", &target));
    assert_eq!(
        exported.lines().count() as i64,
        stored,
        "export writes every event"
    );

    let store = Store::connect(&ConnectOptions {
        database_url: target.clone(),
        ..ConnectOptions::default()
    })
    .await
    .unwrap();
    let before = store
        .read_feed(Position::START, 1_000, &FeedFilter::all())
        .await
        .unwrap();
    assert_eq!(
        before.len() as i64,
        stored,
        "the feed shows every restored event"
    );
    let highest = before.last().unwrap().position;
    let story = StoryId(before[0].story_id.0);
    let appended = store
        .append(
            story,
            None,
            &[NewEvent::from_event(
                &storyline::domain::events::StoryEvent::DevelopmentReported(
                    storyline::domain::events::DevelopmentReported::new(
                        uuid::Uuid::now_v7(),
                        "Reported after the restore",
                        chrono::Utc::now(),
                    ),
                ),
                None,
            )],
            &EventMetadata::by("restore-test"),
        )
        .await
        .expect("appends are taken on the restored database");
    let new = &appended.events[0];
    assert!(new.position > highest, "{} > {}", new.position, highest);
    assert!(new.version > Version(1));
    store
        .wait_until_settled(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let after = store
        .read_feed(highest, 10, &FeedFilter::all())
        .await
        .unwrap();
    assert_eq!(after.len(), 1, "the new event follows the restored ones");
    assert_eq!(after[0].id, new.id);
    let again = run(Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("export")
        .env("DATABASE_URL", &target));
    assert_eq!(again.lines().count() as i64, stored + 1);
    store.close().await;
}
