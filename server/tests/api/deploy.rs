//! deploy/nginx.conf as shipped, run by Debian's nginx in front of two
//! instances on one PostgreSQL: customers pay through the one address, also
//! after an instance dies.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kasse_core::api::CheckoutSession;
use serde_json::Value;

use crate::durability::{free_addr, merchant_on, start_on};
use crate::helpers::{good_card, session_body};

const SECRET: &str = "one secret that every instance behind nginx shares";
const NGINX: &str = "/usr/sbin/nginx";

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// nginx with the shipped configuration, pointed at `upstreams`.
async fn nginx(dir: &Path, listen: &str, upstreams: [&str; 2]) -> Nginx {
    assert!(
        Path::new(NGINX).exists(),
        "{NGINX} is missing: `make test` installs Debian's nginx (scripts/test-services.sh)"
    );
    let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/nginx.conf");
    let shipped = std::fs::read_to_string(shipped).unwrap();
    for placeholder in ["127.0.0.1:8081", "127.0.0.1:8082", "listen 8080;"] {
        assert!(
            shipped.contains(placeholder),
            "{placeholder} not in nginx.conf"
        );
    }
    let config = shipped
        .replace("127.0.0.1:8081", upstreams[0])
        .replace("127.0.0.1:8082", upstreams[1])
        .replace("listen 8080;", &format!("listen {listen};"));
    let path = dir.join("nginx.conf");
    std::fs::write(&path, config).unwrap();
    let globals = format!(
        "daemon off; pid {0}/nginx.pid; error_log {0}/nginx-error.log;",
        dir.display()
    );
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(dir)
        .arg("-c")
        .arg(&path)
        .args(["-g", &globals])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let nginx = Nginx(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("http://{listen}/healthz"))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "nginx did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    nginx
}

async fn pay_through(http: &reqwest::Client, base: &str, key: &str) -> Value {
    let created = http
        .post(format!("{base}/v1/checkout/sessions"))
        .bearer_auth(key)
        .json(&session_body())
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let session: CheckoutSession = created.json().await.unwrap();
    assert!(
        session.url.starts_with(&format!("{base}/pay/")),
        "the hosted page is on the public address: {}",
        session.url
    );
    let page = http.get(&session.url).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let paid = http
        .post(format!("{base}/v1/pay/{}/confirm", session.id))
        .header("Kasse-Client-Secret", &session.client_secret)
        .json(&good_card("4242424242424242"))
        .send()
        .await
        .unwrap();
    assert_eq!(paid.status(), 200);
    paid.json().await.unwrap()
}

#[tokio::test]
async fn customers_pay_through_nginx_in_front_of_two_instances() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::postgres::fresh_database().await;
    let key = merchant_on(&database, Some(SECRET));
    let public = free_addr().to_string();
    let base = format!("http://{public}");
    // The instances pick their own ports: no race with other tests for one.
    let any_port: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Kasse</title><body></body>",
    )
    .unwrap();
    let dist = dist.display().to_string();
    let extra = [
        "--public-url",
        &base,
        "--trusted-proxy",
        "127.0.0.1",
        "--static-dir",
        &dist,
    ];
    let a = start_on(dir.path(), any_port, &database, Some(SECRET), &extra).await;
    let b = start_on(dir.path(), any_port, &database, Some(SECRET), &extra).await;
    let _nginx = nginx(
        dir.path(),
        &public,
        [&a.addr.to_string(), &b.addr.to_string()],
    )
    .await;

    let http = reqwest::Client::new();
    for _ in 0..4 {
        let paid = pay_through(&http, &base, &key).await;
        assert_eq!(paid["status"], "succeeded", "{paid}");
    }
    // One instance dies; nginx sends everyone to the other.
    a.kill_9();
    for _ in 0..4 {
        let paid = pay_through(&http, &base, &key).await;
        assert_eq!(paid["status"], "succeeded", "{paid}");
    }
    let list: kasse_core::api::PaymentList = http
        .get(format!("{base}/v1/payments?limit=100"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.data.len(), 8);
}

/// The upgrade README describes: behind nginx, each instance in turn is
/// taken out of nginx (`down`, reload), stopped (SIGTERM), started again,
/// and put back, while customers keep paying: no payment fails.
#[tokio::test]
async fn restarting_one_instance_at_a_time_fails_no_payment() {
    let dir = tempfile::tempdir().unwrap();
    let database = crate::postgres::fresh_database().await;
    let key = merchant_on(&database, Some(SECRET));
    let public = free_addr().to_string();
    let base = format!("http://{public}");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>Kasse</title>",
    )
    .unwrap();
    let dist = dist.display().to_string();
    let extra = [
        "--public-url",
        &base,
        "--trusted-proxy",
        "127.0.0.1",
        "--static-dir",
        &dist,
    ];
    let addrs = [free_addr(), free_addr()];
    let mut instances = Vec::new();
    for addr in addrs {
        instances.push(Some(
            start_on(dir.path(), addr, &database, Some(SECRET), &extra).await,
        ));
    }
    let _nginx = nginx(
        dir.path(),
        &public,
        [&addrs[0].to_string(), &addrs[1].to_string()],
    )
    .await;
    let errors = dir.path().join("nginx-error.log");
    let http = reqwest::Client::new();
    try_pay(&http, &base, &key).await.unwrap_or_else(|e| {
        panic!(
            "{e}: {}",
            std::fs::read_to_string(&errors).unwrap_or_default()
        )
    });

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let customers: Vec<_> = (0..3)
        .map(|_| {
            let (stop, base, key) = (stop.clone(), base.clone(), key.clone());
            tokio::spawn(async move {
                // A connection per request: an nginx reload closes its idle
                // client connections, a race between nginx and the client
                // that Kasse has no part in.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(0)
                    .build()
                    .unwrap();
                let (mut paid, mut failed) = (0, Vec::new());
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    match try_pay(&http, &base, &key).await {
                        Ok(()) => paid += 1,
                        Err(why) => failed.push(why),
                    }
                }
                (paid, failed)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let config = dir.path().join("nginx.conf");
    let shipped = std::fs::read_to_string(&config).unwrap();
    // Takes instance `i` out of nginx (or puts it back) and reloads it:
    // nginx's old workers finish what they hold, its new ones skip it.
    let take_out = |i: Option<usize>| {
        let mut edited = shipped.clone();
        if let Some(i) = i {
            let line = format!("server {} ", addrs[i]);
            edited = edited.replace(&line, &format!("server {} down ", addrs[i]));
        }
        std::fs::write(&config, edited).unwrap();
        let pid = std::fs::read_to_string(dir.path().join("nginx.pid")).unwrap();
        let reloaded = Command::new("kill")
            .args(["-HUP", pid.trim()])
            .status()
            .unwrap();
        assert!(reloaded.success());
    };
    for (i, addr) in addrs.into_iter().enumerate() {
        take_out(Some(i));
        tokio::time::sleep(Duration::from_millis(500)).await;
        let old = instances[i].take().unwrap();
        let exit = tokio::task::spawn_blocking(move || old.terminate())
            .await
            .unwrap()
            .expect("it exited");
        assert!(exit.success());
        let new = start_on(dir.path(), addr, &database, Some(SECRET), &extra).await;
        kasse_testkit::process::until_ready(&new.base, Duration::from_secs(20))
            .await
            .unwrap();
        instances[i] = Some(new);
        take_out(None);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let (mut paid, mut failed) = (0, Vec::new());
    for customer in customers {
        let (p, f) = customer.await.unwrap();
        paid += p;
        failed.extend(f);
    }
    failed.truncate(5);
    assert!(
        failed.is_empty(),
        "{failed:?}: {}",
        std::fs::read_to_string(&errors).unwrap_or_default()
    );
    assert!(paid >= 10, "only {paid} payments went through");
}

/// One customer's payment through `base`: what went wrong, if anything.
async fn try_pay(http: &reqwest::Client, base: &str, key: &str) -> Result<(), String> {
    let created = http
        .post(format!("{base}/v1/checkout/sessions"))
        .bearer_auth(key)
        .json(&session_body())
        .send()
        .await
        .map_err(|e| format!("session: {e}"))?;
    if created.status() != 201 {
        return Err(format!("session: {}", created.status()));
    }
    let session: CheckoutSession = created.json().await.map_err(|e| e.to_string())?;
    let paid = http
        .post(format!("{base}/v1/pay/{}/confirm", session.id))
        .header("Kasse-Client-Secret", &session.client_secret)
        .json(&good_card("4242424242424242"))
        .send()
        .await
        .map_err(|e| format!("confirm: {e}"))?;
    if paid.status() != 200 {
        return Err(format!("confirm: {}", paid.status()));
    }
    Ok(())
}

/// deploy/kasse.service: restarted on failure, as its own user, hardened,
/// and given the secret and the vault key as credential files, which the
/// `kasse` binary reads as the unit tells it to.
#[tokio::test]
async fn the_systemd_unit_starts_kasse_from_its_credential_files() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/kasse.service"),
    )
    .unwrap();
    for directive in [
        "Restart=on-failure",
        "User=kasse",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "LoadCredential=kasse-secret:/etc/kasse/secret",
        "LoadCredential=kasse-vault-key:/etc/kasse/vault-key",
        "Environment=KASSE_SECRET_FILE=%d/kasse-secret",
        "Environment=KASSE_VAULT_KEY_FILE=%d/kasse-vault-key",
        "KillSignal=SIGTERM",
    ] {
        assert!(
            unit.lines().any(|l| l == directive),
            "{directive} is missing"
        );
    }
    assert!(
        !unit.contains("Environment=KASSE_SECRET="),
        "the secret is never in the environment"
    );
    // Run the binary as the unit does: its environment, with %d a folder
    // of credential files, and its ExecStart arguments.
    let credentials = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    std::fs::write(
        credentials.path().join("kasse-secret"),
        "a secret of more than thirty-two characters, from a file\n",
    )
    .unwrap();
    std::fs::write(
        credentials.path().join("kasse-vault-key"),
        format!("{}\n", crate::helpers::TEST_VAULT_KEY),
    )
    .unwrap();
    let addr = free_addr();
    let mut command = Command::new(env!("CARGO_BIN_EXE_kasse"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap());
    for line in unit.lines() {
        if let Some(pair) = line.strip_prefix("Environment=") {
            let (name, value) = pair.split_once('=').unwrap();
            let value = value
                .replace("%d", credentials.path().to_str().unwrap())
                .replace("/var/lib/kasse", state.path().to_str().unwrap())
                .replace("/usr/local/share/kasse/dist", "nowhere");
            command.env(name, value);
        }
    }
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap();
    let mut args: Vec<String> = exec
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    let at = args.iter().position(|a| a == "--addr").unwrap();
    args[at + 1] = addr.to_string();
    let log = std::fs::File::create(state.path().join("log")).unwrap();
    let mut child = command
        .args(&args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    // Ready, as a load balancer waits for it: right after the start the
    // workers may not yet have gone round their loops (503).
    if let Err(error) =
        kasse_testkit::process::until_ready(&format!("http://{addr}"), Duration::from_secs(20))
            .await
    {
        panic!(
            "kasse did not become ready: {error:#}; its log: {}",
            std::fs::read_to_string(state.path().join("log")).unwrap()
        );
    }
    let _ = child.kill();
    let _ = child.wait();
    // It kept no secret of its own: the credential file is the secret.
    assert!(!state.path().join("kasse.secret").exists());
    let logged = std::fs::read_to_string(state.path().join("log")).unwrap();
    assert!(
        logged.lines().all(|l| l.starts_with('{')),
        "JSON logs: {logged}"
    );
}
