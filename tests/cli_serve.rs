//! The binary itself: migrations, tokens, and the HTTP server's health.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use storyline::store::Store;

const BINARY: &str = env!("CARGO_BIN_EXE_storyline");

fn database_url(connect: &PgConnectOptions, database: &str) -> String {
    format!(
        "postgres://{}@{}:{}/{}",
        connect.get_username(),
        connect.get_host(),
        connect.get_port(),
        database
    )
}

fn test_database_url(connect: &PgConnectOptions) -> String {
    database_url(
        connect,
        connect
            .get_database()
            .expect("sqlx::test names its database"),
    )
}

fn storyline(url: &str, args: &[&str]) -> Output {
    Command::new(BINARY)
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("binary runs")
}

#[sqlx::test]
async fn token_create_prints_the_token_last_and_revoke_disables_it(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let url = test_database_url(&connect);
    let created = storyline(&url, &["token", "create", "--name", "wire desk"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let stdout = String::from_utf8(created.stdout).unwrap();
    let token = stdout.lines().last().expect("token printed").to_owned();

    let store = Store::from_pool(pool.connect_with(connect).await.unwrap());
    let principal = store
        .authenticate(&token)
        .await
        .unwrap()
        .expect("token is live");
    assert_eq!(principal.name, "wire desk");

    let revoked = storyline(&url, &["token", "revoke", "--name", "wire desk"]);
    assert!(revoked.status.success());
    assert!(
        store.authenticate(&token).await.unwrap().is_none(),
        "revoked at once"
    );

    let again = storyline(&url, &["token", "revoke", "--name", "wire desk"]);
    assert!(!again.status.success(), "revoking twice is an error");
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("no live token"), "{stderr}");
    assert!(!stderr.contains("backtrace"), "{stderr}");
}

#[sqlx::test]
async fn migrate_creates_a_missing_database_and_is_repeatable(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let admin = pool.connect_with(connect.clone()).await.unwrap();
    let name = format!("storyline_cli_{}", uuid::Uuid::now_v7().simple());
    let url = database_url(&connect, &name);
    for _ in 0..2 {
        let migrated = storyline(&url, &["migrate"]);
        assert!(
            migrated.status.success(),
            "{}",
            String::from_utf8_lossy(&migrated.stderr)
        );
    }
    let fresh = PgPoolOptions::new().connect(&url).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('events', 'tokens')",
    )
    .fetch_one(&fresh)
    .await
    .unwrap();
    fresh.close().await;
    sqlx::query(&format!("DROP DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    assert_eq!(tables, 2);
}

#[sqlx::test]
async fn serve_answers_health_and_readiness_and_stops_cleanly_on_sigterm(
    _pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let port = free_port();
    let mut server = Command::new(BINARY)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", test_database_url(&connect))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let health = wait_for(&client, &format!("{base}/healthz")).await;
    assert_eq!(health, (200, "ok".to_owned()));
    let ready = client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 200);

    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let status = tokio::task::spawn_blocking(move || server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "graceful exit, got {status}");
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// GETs `url` until the server answers (it is still migrating at first).
async fn wait_for(client: &reqwest::Client, url: &str) -> (u16, String) {
    for _ in 0..300 {
        if let Ok(response) = client.get(url).send().await {
            let status = response.status().as_u16();
            return (status, response.text().await.unwrap_or_default());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("server never answered {url}");
}

#[sqlx::test]
async fn verify_exits_1_listing_differences_until_rebuild_repairs_them(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let url = test_database_url(&connect);
    assert!(storyline(&url, &["demo"]).status.success());
    assert!(storyline(&url, &["verify"]).status.success());

    let pool = pool.connect_with(connect).await.unwrap();
    sqlx::query("UPDATE stories SET title = 'Tampered'")
        .execute(&pool)
        .await
        .unwrap();
    let failed = storyline(&url, &["verify"]);
    assert_eq!(failed.status.code(), Some(1));
    let listed = String::from_utf8_lossy(&failed.stdout);
    assert!(listed.contains("title: events say"), "{listed}");

    let rebuilt = storyline(&url, &["rebuild"]);
    assert!(
        rebuilt.status.success(),
        "{}",
        String::from_utf8_lossy(&rebuilt.stderr)
    );
    assert!(storyline(&url, &["verify"]).status.success());
}

#[sqlx::test]
async fn export_prints_ndjson_that_names_the_story(
    _pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let url = test_database_url(&connect);
    assert!(storyline(&url, &["demo"]).status.success());
    let exported = storyline(&url, &["export", "--story", "kabul-airport-2021"]);
    assert!(exported.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&exported.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 14);
    assert!(lines.iter().all(|l| l["story"] == "kabul-airport-2021"));
    assert_eq!(lines[13]["version"], 14);
    let unknown = storyline(&url, &["export", "--story", "no-such-story"]);
    assert!(!unknown.status.success());
}

#[sqlx::test]
async fn logs_are_json_lines_when_asked(_pool: PgPoolOptions, connect: PgConnectOptions) {
    let output = Command::new(BINARY)
        .args(["migrate"])
        .env("DATABASE_URL", test_database_url(&connect))
        .env("STORYLINE_LOG_FORMAT", "json")
        .output()
        .expect("binary runs");
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty(), "migrate logs something");
    for line in lines {
        let parsed: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(parsed.get("level").is_some(), "{line}");
    }
}

#[sqlx::test]
async fn demo_leaves_the_search_index_current_without_a_server(
    pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let url = test_database_url(&connect);
    assert!(storyline(&url, &["demo"]).status.success());
    let store = Store::from_pool(pool.connect_with(connect).await.unwrap());
    let filter = storyline::store::StoryFilter {
        status: None,
        search: Some("bomb".into()),
        actor: Some("john kirby".into()),
        public_only: false,
    };
    assert_eq!(store.count_stories(&filter).await.unwrap(), 1);
}

#[sqlx::test]
async fn serve_raises_its_open_descriptor_limit_to_the_hard_limit(
    _pool: PgPoolOptions,
    connect: PgConnectOptions,
) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    // Started with a soft limit well below the hard one.
    let mut child = Command::new("sh")
        .args([
            "-c",
            &format!("ulimit -Sn 256 && exec {BINARY} serve --listen 127.0.0.1:{port}"),
        ])
        .env("DATABASE_URL", test_database_url(&connect))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
        {
            ready = r.status().is_success();
            if ready {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let limits =
        std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap_or_default();
    let _ = child.kill();
    let _ = child.wait();
    assert!(ready, "the server answered /readyz");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap_or_default();
    let numbers: Vec<&str> = line.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers.len(), 2, "{line}");
    assert_eq!(
        numbers[0], numbers[1],
        "soft limit raised to the hard one: {line}"
    );
}
