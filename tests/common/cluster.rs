//! A PostgreSQL cluster of a test's own: initdb in a temporary folder, on a
//! free port, run as the `postgres` user, stopped and removed when dropped.
//! For what the shared cluster must never undergo (a restore into a fresh
//! cluster, a restart under load).

use std::path::PathBuf;
use std::process::Command;

pub const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// A cluster of the test's own, stopped when dropped.
pub struct PrivateCluster {
    pub dir: PathBuf,
    pub port: u16,
}

impl PrivateCluster {
    pub fn start() -> PrivateCluster {
        let dir = postgres_folder("cluster");
        let port = free_port();
        let data = dir.join("data");
        run(as_postgres(&format!("{PG_BIN}/initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data));
        start_server(&dir, port);
        PrivateCluster { dir, port }
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn pg_ctl(&self, action: &[&str]) -> Command {
        let mut command = as_postgres(&format!("{PG_BIN}/pg_ctl"));
        command.arg("-D").arg(self.dir.join("data")).args(action);
        command
    }

    /// Stops the server at once (immediate shutdown), as a crash would.
    pub fn crash(&self) {
        run(&mut self.pg_ctl(&["-m", "immediate", "-w", "stop"]));
    }

    /// Starts the server again after [`PrivateCluster::crash`].
    pub fn start_again(&self) {
        let options = server_options(self.port, &self.dir);
        let log = self.dir.join("log");
        let log = log.to_string_lossy();
        run(&mut self.pg_ctl(&["-w", "-l", &log, "-o", &options, "start"]));
    }

    /// Restarts the server, dropping every connection (fast shutdown).
    pub fn restart(&self) {
        let options = server_options(self.port, &self.dir);
        let log = self.dir.join("log");
        let log = log.to_string_lossy();
        run(&mut self.pg_ctl(&["-m", "fast", "-w", "-l", &log, "-o", &options, "restart"]));
    }
}

impl PrivateCluster {
    /// A streaming standby of `primary` made with `pg_basebackup -R` on a
    /// free port, with `settings` (such as `recovery_min_apply_delay =
    /// '300ms'`) added to its configuration.
    pub fn standby_of(primary: &PrivateCluster, settings: &[&str]) -> PrivateCluster {
        let dir = postgres_folder("standby");
        let data = dir.join("data");
        run(as_postgres(&format!("{PG_BIN}/pg_basebackup"))
            // A fast checkpoint: the default spreads it over minutes.
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-X",
                "stream",
                "-R",
                "-c",
                "fast",
                "-p",
            ])
            .arg(primary.port.to_string())
            .arg("-D")
            .arg(&data));
        if !settings.is_empty() {
            let conf = data.join("postgresql.auto.conf");
            let mut text = std::fs::read_to_string(&conf).unwrap_or_default();
            for setting in settings {
                text.push_str(setting);
                text.push('\n');
            }
            std::fs::write(&conf, text).unwrap();
        }
        let port = free_port();
        start_server(&dir, port);
        PrivateCluster { dir, port }
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["-m", "immediate", "-w", "stop"]).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A new temporary folder that the `postgres` user owns.
fn postgres_folder(kind: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("storyline-{kind}-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    run(Command::new("chown").arg("postgres").arg(&dir));
    dir
}

/// Starts the server of the cluster in `dir` (its data in `dir/data`) on
/// `port`, and waits until it accepts connections.
fn start_server(dir: &std::path::Path, port: u16) {
    run(as_postgres(&format!("{PG_BIN}/pg_ctl"))
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-l")
        .arg(dir.join("log"))
        .arg("-o")
        .arg(server_options(port, dir))
        .args(["-w", "start"]));
}

fn as_postgres(program: &str) -> Command {
    let mut command = Command::new("runuser");
    command.args(["-u", "postgres", "--", program]);
    command
}

/// The server's options: its port, loopback only, its socket in `dir`.
fn server_options(port: u16, dir: &std::path::Path) -> String {
    format!(
        "-p {port} -c listen_addresses=127.0.0.1 -k {}",
        dir.display()
    )
}

pub fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command runs");
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
