//! A throwaway PostgreSQL cluster: initdb in a temp dir, on a free loopback port, run as the
//! `postgres` user when the tests run as root; stopped (immediate) and removed when dropped.
//! It can be stopped and started again on the same port (a store that goes away).
#![allow(dead_code)]

use super::{find_binary, free_port, is_root, require};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const PASSWORD: &str = "pw-Zx81-secret";

pub struct Bins {
    pub dir: PathBuf,
}

impl Bins {
    pub fn find() -> Option<Bins> {
        let initdb = find_binary(&[
            "/usr/lib/postgresql/*/bin/initdb",
            "/usr/local/pgsql/bin/initdb",
            "/usr/bin/initdb",
        ])?;
        let dir = initdb.parent()?.to_path_buf();
        dir.join("pg_ctl").is_file().then_some(Bins { dir })
    }
    pub fn bin(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// Run a PostgreSQL tool as the `postgres` user when we are root (PostgreSQL refuses root).
pub fn pg_cmd(bin: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

pub fn run_ok(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn chown_postgres(p: &Path) {
    if !is_root() {
        return;
    }
    let out = Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(p)
        .output()
        .expect("chown");
    assert!(out.status.success(), "chown the temp dir to postgres");
}

/// A running cluster.
pub struct Cluster {
    pub pg_ctl: PathBuf,
    pub data: PathBuf,
    pub sock: PathBuf,
    pub port: u16,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Cluster {
    pub fn url(&self) -> String {
        format!(
            "postgres://postgres:{PASSWORD}@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }

    /// Stop it at once (connections are cut, as when the server dies).
    pub fn stop(&self) {
        let data = self.data.display().to_string();
        let _ = pg_cmd(
            &self.pg_ctl,
            &["-D", &data, "-m", "immediate", "-w", "stop"],
        )
        .output();
    }

    /// Start it again on the same port.
    pub fn restart(&self) {
        launch(&self.pg_ctl, &self.data, &self.sock, self.port);
    }
}

fn launch(pg_ctl: &Path, data: &Path, sock: &Path, port: u16) {
    let d = data.display().to_string();
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
        sock.display()
    );
    let log = data.with_extension("log").display().to_string();
    run_ok(
        pg_cmd(
            pg_ctl,
            &["-D", &d, "-o", &opts, "-l", &log, "-w", "-t", "60", "start"],
        ),
        "pg_ctl start",
    );
}

/// Start a cluster on `data` (initialised) with its socket in `sock`.
pub fn start(bins: &Bins, data: &Path, sock: &Path) -> Cluster {
    let port = free_port();
    launch(&bins.bin("pg_ctl"), data, sock, port);
    Cluster {
        pg_ctl: bins.bin("pg_ctl"),
        data: data.to_path_buf(),
        sock: sock.to_path_buf(),
        port,
    }
}

pub fn initdb(bins: &Bins, data: &Path) {
    let d = data.display().to_string();
    run_ok(
        pg_cmd(
            &bins.bin("initdb"),
            &[
                "-D",
                &d,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        ),
        "initdb",
    );
}

/// A fresh cluster in a temp dir (kept with it), or `None` (said) when PostgreSQL is not
/// installed and `WARROOM_REQUIRE_REAL` is not set.
pub fn fresh() -> Option<(tempfile::TempDir, Cluster)> {
    let bins = require(
        "the PostgreSQL server binaries (apt-get install postgresql)",
        Bins::find(),
    )?;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("primary");
    std::fs::create_dir(&data).expect("mkdir");
    chown_postgres(dir.path());
    initdb(&bins, &data);
    let c = start(&bins, &data, dir.path());
    Some((dir, c))
}
