//! The `kasse` binary as a process, started and stopped as an operator
//! would: `kasse serve`, `kasse merchant create`, SIGTERM, SIGKILL.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};

/// How to start `kasse serve`.
pub struct Serve<'a> {
    /// The `kasse` binary (`env!("CARGO_BIN_EXE_kasse")` in its package).
    pub binary: &'a Path,
    pub database: &'a str,
    /// `KASSE_SECRET`, or none (then a SQLite file's `kasse.secret`).
    pub secret: Option<&'a str>,
    /// Where to listen; port 0 lets the system pick a free one, which
    /// `kasse serve` then prints (no race with other tests for a port),
    /// beside the public URL when `args` hold `--public-url`.
    pub addr: SocketAddr,
    /// Standard error goes here, appended.
    pub log: &'a Path,
    /// More arguments after `serve --addr …`.
    pub args: &'a [&'a str],
    /// More environment, which `args` override.
    pub env: &'a [(&'a str, &'a str)],
}

/// A `kasse serve` process; killed when dropped.
pub struct Kasse {
    child: Child,
    pub addr: SocketAddr,
    /// `http://ADDR`.
    pub base: String,
}

impl Kasse {
    /// Starts `kasse serve` and waits until `/healthz` answers.
    pub async fn serve(serve: Serve<'_>) -> anyhow::Result<Self> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(serve.log)
            .with_context(|| format!("could not open {}", serve.log.display()))?;
        let mut command = Command::new(serve.binary);
        match serve.secret {
            Some(secret) => command.env("KASSE_SECRET", secret),
            None => command.env_remove("KASSE_SECRET"),
        };
        command.envs(serve.env.iter().copied());
        let mut child = command
            .args(["--database", serve.database, "serve"])
            .args(["--addr", &serve.addr.to_string()])
            .args(serve.args)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("could not start {}", serve.binary.display()))?;
        // `Kasse is serving on http://ADDR/` is its first line, once it
        // listens; what follows is read and dropped so the pipe never fills.
        let stdout = child.stdout.take().context("kasse's standard output")?;
        let (first_line, line) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut lines = std::io::BufReader::new(stdout).lines();
            let _ = first_line.send(lines.next().and_then(Result::ok));
            lines.for_each(drop);
        });
        let line = tokio::time::timeout(Duration::from_secs(30), line)
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let Some(line) = line else {
            let status = child.try_wait().ok().flatten();
            let _ = child.kill();
            // The log's end says why, also where the temporary folder is gone.
            let log = std::fs::read_to_string(serve.log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            anyhow::bail!(
                "kasse did not start ({status:?}); the end of {}:\n{}",
                serve.log.display(),
                tail.join("\n")
            );
        };
        // `… (listening on ADDR)` when a public URL is set, else the URL's.
        let announced = match line.split_once(" (listening on ") {
            Some((_, rest)) => rest.trim_end_matches(')').parse().ok(),
            None => line
                .strip_prefix("Kasse is serving on http://")
                .map(|rest| rest.trim_end_matches('/'))
                .and_then(|addr| addr.parse().ok()),
        };
        let addr: SocketAddr = if serve.addr.port() != 0 {
            serve.addr
        } else {
            announced.with_context(|| format!("no address in kasse's first line, {line:?}"))?
        };
        let base = format!("http://{addr}");
        let kasse = Self { child, addr, base };
        let deadline = Instant::now() + Duration::from_secs(30);
        while reqwest::get(format!("{}/healthz", kasse.base))
            .await
            .is_err()
        {
            ensure!(
                Instant::now() < deadline,
                "kasse did not answer within 30 s; see {}",
                serve.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(kasse)
    }

    /// SIGTERM, as a service manager stops it; waits until it has exited,
    /// and says how.
    pub fn terminate(mut self) -> Option<std::process::ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().ok()
    }

    /// SIGKILL: gone at once, mid-whatever.
    pub fn kill_9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks `base`'s `/readyz` until it answers 200, as a load balancer does
/// before it sends customers: an instance that has just started answers 503
/// until its database has answered and its workers have gone round their
/// loops once. The error holds the last answer, or why there was none.
pub async fn until_ready(base: &str, within: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + within;
    loop {
        let last = match reqwest::get(format!("{base}/readyz")).await {
            Ok(answer) if answer.status() == 200 => return Ok(()),
            Ok(answer) => format!(
                "{}: {}",
                answer.status(),
                answer.text().await.unwrap_or_default()
            ),
            Err(error) => error.to_string(),
        };
        ensure!(
            Instant::now() < deadline,
            "{base}/readyz was not 200 within {within:?}; last: {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Drop for Kasse {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `kasse merchant create --json`, as an operator would; returns the new
/// merchant's secret key.
pub fn create_merchant(
    binary: &Path,
    database: &str,
    secret: Option<&str>,
    name: &str,
    origin: &str,
) -> anyhow::Result<String> {
    let mut command = Command::new(binary);
    match secret {
        Some(secret) => command.env("KASSE_SECRET", secret),
        None => command.env_remove("KASSE_SECRET"),
    };
    let out = command
        .args(["--database", database, "merchant", "create", "--json"])
        .args(["--name", name, "--origin", origin])
        .output()
        .with_context(|| format!("could not run {}", binary.display()))?;
    ensure!(
        out.status.success(),
        "kasse merchant create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let created: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    created["secret_key"]
        .as_str()
        .map(str::to_string)
        .context("no secret_key in kasse merchant create's output")
}
