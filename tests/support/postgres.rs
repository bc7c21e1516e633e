//! A real PostgreSQL server for the tests that need one: a fresh cluster in a temporary data
//! directory, listening on a free loopback port only, with trust authentication, stopped and
//! deleted when the test ends, however it ends.
//!
//! initdb and postgres refuse to run as root. Run as root (as CI does), the server runs as the
//! `postgres` user that Debian's package creates, through `setpriv`, which execs the server in
//! place so that the process the test holds is the server itself.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::app::free_port;

/// The user the server runs as when the tests run as root.
const SERVER_USER: &str = "postgres";

pub struct PostgresServer {
    child: Child,
    pub port: u16,
    bin: PathBuf,
    /// Holds `data/`, `socket/` and the server's log; removed on drop, after the server stops.
    dir: tempfile::TempDir,
}

impl PostgresServer {
    /// Initialises a cluster and starts its server, waiting until it accepts connections.
    pub fn start() -> PostgresServer {
        PostgresServer::start_with(None)
    }

    /// Like [`start`](Self::start), with TLS on: the server presents `cert` (a PEM file) and
    /// proves it with `key`, and clients may still connect without TLS.
    pub fn start_with_tls(cert: &str, key: &str) -> PostgresServer {
        PostgresServer::start_with(Some((cert, key)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> PostgresServer {
        let bin = bin_dir();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let socket = dir.path().join("socket");
        let certs = dir.path().join("tls");
        std::fs::create_dir(&data).unwrap();
        std::fs::create_dir(&socket).unwrap();
        std::fs::create_dir(&certs).unwrap();
        let mut tls_args = Vec::new();
        if let Some((cert, key)) = tls {
            // The server refuses a key that others can read; copies let it own one.
            use std::os::unix::fs::PermissionsExt;
            for (setting, from, name) in [
                ("ssl_cert_file", cert, "server.crt"),
                ("ssl_key_file", key, "server.key"),
            ] {
                let to = certs.join(name);
                std::fs::copy(from, &to).unwrap();
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
                tls_args.push(format!("{setting}={}", to.display()));
            }
            tls_args.push("ssl=on".to_owned());
        }
        let owner = server_owner();
        if let Some((uid, gid)) = owner {
            // The server's user must reach its directories through the temporary one.
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
            for entry in walkdir::WalkDir::new(dir.path()).min_depth(1) {
                let path = entry.unwrap().into_path();
                std::os::unix::fs::chown(&path, Some(uid), Some(gid)).unwrap();
            }
        }
        let log = dir.path().join("server.log");

        let mut initdb = as_server_user(owner.is_some(), &bin.join("initdb"));
        initdb
            .current_dir(dir.path())
            .arg("--pgdata")
            .arg(&data)
            .args(["--auth=trust", "--username=postgres", "--encoding=UTF8"])
            .args(["--no-locale", "--no-sync", "--no-instructions"]);
        let output = run(initdb);
        assert!(
            output.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );

        let port = free_port();
        let mut server = as_server_user(owner.is_some(), &bin.join("postgres"));
        server
            .current_dir(dir.path())
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .arg("-k")
            .arg(&socket)
            // Loopback only, never another address.
            .args(["-c", "listen_addresses=127.0.0.1"])
            // A test cluster is thrown away, so nothing needs to reach the disk.
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off"])
            .args(tls_args.iter().flat_map(|setting| ["-c", setting]))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::from(
                std::fs::File::options().append(true).open(&log).unwrap(),
            ));
        let child = server.spawn().expect("the postgres server starts");
        let mut postgres = PostgresServer {
            child,
            port,
            bin,
            dir,
        };
        postgres.wait_until_ready();
        postgres
    }

    /// The URL of database `name` on this server, as the superuser.
    pub fn url_for(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// The URL of the `postgres` database, which every cluster has.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> String {
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url_for(name)
    }

    /// Runs SQL in `database` with psql, as an operator would, and returns what it printed:
    /// unaligned, without headers, one row per line.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let mut command = Command::new(self.bin.join("psql"));
        command
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", database])
            .args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql]);
        let output = run(command);
        assert!(
            output.status.success(),
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server with a fast shutdown (SIGINT: open connections are closed, nothing is
    /// waited for), or kills it if it has not stopped within ten seconds.
    pub fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "postgres exited before accepting connections: {status}\n{}",
                    self.log()
                );
            }
            let mut ready = Command::new(self.bin.join("pg_isready"));
            ready.args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()]);
            if run(ready).status.success() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections on port {}:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(mut command: Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{command:?} runs: {e}"))
}

/// Where the server's programs are: `PG_BIN_DIR` when set, otherwise the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian's layout, which keeps them off `PATH`), otherwise
/// `pg_config --bindir` (other systems).
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let newest = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .max_by_key(|(version, _)| *version);
    if let Some((_, bin)) = newest {
        return bin;
    }
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()));
    match from_pg_config {
        Some(bin) if bin.join("initdb").is_file() => bin,
        _ => panic!(
            "the PostgreSQL server programs (initdb, postgres) were not found in \
             /usr/lib/postgresql/*/bin or by pg_config; install Debian's postgresql package \
             (tests/run does) or set PG_BIN_DIR"
        ),
    }
}

/// The uid and gid the server runs as when the tests run as root, which initdb refuses; `None`
/// when the tests run as an ordinary user, who runs the server directly.
fn server_owner() -> Option<(u32, u32)> {
    if id(&["-u"]) != 0 {
        return None;
    }
    Some((id(&["-u", SERVER_USER]), id(&["-g", SERVER_USER])))
}

fn id(args: &[&str]) -> u32 {
    let output = Command::new("id").args(args).output().expect("id runs");
    assert!(
        output.status.success(),
        "id {args:?} failed: the tests run as root and need the `{SERVER_USER}` user that \
         Debian's postgresql package creates"
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

/// A command that runs `program` as the server's user when the tests run as root.
fn as_server_user(root: bool, program: &Path) -> Command {
    if !root {
        return Command::new(program);
    }
    let mut command = Command::new("setpriv");
    command
        .args([
            "--reuid",
            SERVER_USER,
            "--regid",
            SERVER_USER,
            "--init-groups",
            "--",
        ])
        .arg(program);
    command
}
