//! A harness for browser tests: a real `kasse serve --demo` on a free port,
//! and headless Chromium driven over WebDriver by chromedriver.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use kasse_server::clock::SystemClock;
use kasse_server::config::{Limits, WebhookConfig};
use kasse_server::merchants::Credentials;
use kasse_server::secrets::ServerSecret;
use kasse_server::{Application, Config};
use serde_json::json;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use url::Url;

pub use fantoccini;

mod sites;

pub use sites::Posts;

/// An SSLCOMMERZ merchant's site on its own origin, with store credentials.
pub struct SslcommerzShop {
    pub origin: String,
    pub credentials: Credentials,
    pub store: kasse_server::compat::credentials::Issued,
    pub posts: Posts,
}

impl SslcommerzShop {
    /// The body of the `n`th POST (from 0) to `path`, once it has come.
    pub async fn nth_post(&self, path: &str, n: usize) -> anyhow::Result<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let found = self
                .posts
                .0
                .lock()
                .unwrap()
                .iter()
                .filter(|(p, _)| p == path)
                .nth(n)
                .map(|(_, body)| body.clone());
            if let Some(body) = found {
                return Ok(body);
            }
            if Instant::now() > deadline {
                bail!("no POST number {n} to {path} came");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An official SSLCOMMERZ SDK, run unmodified from `e2e/sdk/`.
#[derive(Debug, Clone, Copy)]
pub enum Sdk {
    /// `sslcommerz-lib` from PyPI, in `.venv` (scripts/setup.sh).
    Python,
    /// `sslcommerz-lts` from npm, in `node_modules`.
    Node,
}

impl Sdk {
    /// One SDK call (`args`), `stdin` fed to it; its answer as JSON.
    pub async fn call(
        self,
        kasse: &Url,
        shop: &SslcommerzShop,
        args: &[&str],
        stdin: Option<&str>,
    ) -> anyhow::Result<serde_json::Value> {
        let script = match self {
            Sdk::Python => Script::Python("e2e/sdk/sslcommerz_python.py"),
            Sdk::Node => Script::Node("e2e/sdk/sslcommerz_node.js"),
        };
        script
            .run(
                args,
                &[
                    ("KASSE_BASE", kasse.as_str()),
                    ("STORE_ID", &shop.store.store_id),
                    ("STORE_PASS", &shop.store.store_passwd),
                ],
                stdin,
            )
            .await
    }
}

/// A merchant's script under `e2e/sdk/`, by the workspace's own Python
/// (`.venv`, with the SDK) or Node.js (`node_modules`).
#[derive(Debug, Clone, Copy)]
pub enum Script {
    Python(&'static str),
    Node(&'static str),
}

impl Script {
    /// Runs it with `args` and `env`, `stdin` fed to it; the last line it
    /// prints, as JSON.
    pub async fn run(
        self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> anyhow::Result<serde_json::Value> {
        use tokio::io::AsyncWriteExt;
        let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
        let (program, script) = match self {
            Script::Python(script) => (root.join(".venv/bin/python"), script),
            Script::Node(script) => (PathBuf::from("node"), script),
        };
        let mut child = Command::new(&program)
            .arg(root.join(script))
            .args(args)
            .current_dir(&root)
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("{} (make test installs it)", program.display()))?;
        let mut input = child.stdin.take().context("stdin")?;
        input.write_all(stdin.unwrap_or("").as_bytes()).await?;
        drop(input);
        let out = child.wait_with_output().await?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!(
                "{script} {args:?} failed: {}\n{stdout}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let last = stdout.lines().last().unwrap_or("");
        serde_json::from_str(last).with_context(|| format!("{script} {args:?} printed {stdout}"))
    }
}

pub struct MerchantSite {
    pub origin: String,
    pub credentials: Credentials,
}

impl MerchantSite {
    /// A fresh checkout session's URL, made by the site's own server.
    pub async fn session_url(&self) -> anyhow::Result<String> {
        let created: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/create", self.origin))
            .send()
            .await?
            .json()
            .await?;
        created["url"]
            .as_str()
            .map(str::to_string)
            .context("the site answers with a url")
    }
}

/// How long a step may take before the test fails with what the page showed.
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Harness {
    pub base: Url,
    pub demo: Credentials,
    pub browser: Client,
    pub store: Arc<dyn kasse_server::store::Store>,
    _driver: Child,
    _dir: TempDir,
    /// Cleared when the test ends; see [`watchdog`].
    running: Arc<AtomicBool>,
}

/// The longest one browser test may take: each takes seconds, so this
/// means the browser or its driver stopped answering.
const HUNG_AFTER: Duration = Duration::from_secs(240);

/// A WebDriver command that never returns would hold `make test` (and CI)
/// until it is killed; this ends the test binary with a clear failure
/// instead, if the test is still running after [`HUNG_AFTER`].
fn watchdog(running: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        std::thread::sleep(HUNG_AFTER);
        if running.load(Ordering::SeqCst) {
            eprintln!(
                "a browser test has run for {HUNG_AFTER:?}: the browser or chromedriver stopped answering"
            );
            std::process::exit(101);
        }
    });
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.running.store(false, Ordering::SeqCst);
    }
}

fn secret() -> ServerSecret {
    ServerSecret::new(b"e2e server secret".to_vec())
}

/// The built front end: `KASSE_DIST`, else the workspace's `dist/`.
fn dist_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("KASSE_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist")));
    if !dir.join("index.html").exists() {
        bail!(
            "the payment page is not built in {}: run `make test`, which builds it first",
            dir.display()
        );
    }
    Ok(dir)
}

impl Harness {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(|_| {}, Arc::new(SystemClock)).await
    }

    /// A harness whose configuration `adjust` may change, on `clock`.
    pub async fn start_with(
        adjust: impl FnOnce(&mut Config),
        clock: Arc<dyn kasse_server::clock::Clock>,
    ) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut config = Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            database_url: dir.path().join("kasse.db").display().to_string(),
            static_dir: dist_dir()?,
            secret: secret(),
            demo: true,
            sandbox_latency: Duration::ZERO,
            live: false,
            metrics_token: None,
            shutdown_grace: Duration::from_secs(30),
            limits: Limits::default(),
            // The tests' receivers listen on loopback.
            webhooks: WebhookConfig {
                allow_private_addresses: true,
                ..WebhookConfig::default()
            },
            vault: Some(kasse_server::vault::Vault::from_keys(
                &kasse_server::vault::Vault::generate_key(),
            )?),
            mail: None,
        };
        adjust(&mut config);
        let app = Application::build_with_clock(config, clock).await?;
        let base = app.base_url().clone();
        let demo = app.demo.clone().context("demo mode makes a merchant")?;
        let store = app.store.clone();
        tokio::spawn(app.run_until_stopped());

        let (driver, browser) = start_browser(&dir).await?;
        let running = Arc::new(AtomicBool::new(true));
        watchdog(running.clone());
        Ok(Self {
            base,
            demo,
            browser,
            store,
            _driver: driver,
            _dir: dir,
            running,
        })
    }

    /// Calls the merchant API with the demo merchant's secret key: a POST
    /// of `body`, or a GET without one; the status and the JSON answer.
    pub async fn api(
        &self,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(u16, serde_json::Value)> {
        let http = reqwest::Client::new();
        let request = match body {
            Some(body) => http.post(self.url(path)).json(&body),
            None => http.get(self.url(path)),
        };
        let response = request.bearer_auth(&self.demo.secret_key).send().await?;
        Ok((response.status().as_u16(), response.json().await?))
    }

    pub fn url(&self, path: &str) -> String {
        self.base.join(path).expect("valid path").into()
    }

    /// Waits for an element; on timeout, fails with the page's text.
    pub async fn find(&self, css: &str) -> anyhow::Result<fantoccini::elements::Element> {
        match self
            .browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => Ok(element),
            Err(e) => bail!(
                "{css} did not appear ({e}); the page shows:\n{}",
                self.page_text().await
            ),
        }
    }

    /// Waits until the current URL's path satisfies `accept`.
    pub async fn wait_for_path(&self, accept: impl Fn(&str) -> bool) -> anyhow::Result<Url> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let url = self.browser.current_url().await?;
            if accept(url.path()) {
                return Ok(url);
            }
            if Instant::now() > deadline {
                bail!(
                    "stuck at {url}; the page shows:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element's text satisfies `accept`, and returns it.
    pub async fn wait_for_text(
        &self,
        css: &str,
        accept: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(element) = self.browser.find(Locator::Css(css)).await {
                let text = element.text().await.unwrap_or_default();
                if accept(&text) {
                    return Ok(text);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "{css} never showed the expected text; the page shows:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn page_text(&self) -> String {
        match self.browser.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(e) => format!("(no body: {e})"),
        }
    }

    /// Saves a PNG under `target/screenshots/` for people to look at.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../target/screenshots"
        ));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, self.browser.screenshot().await?)?;
        Ok(path)
    }

    /// A merchant's own site on another origin (`http://localhost:PORT`),
    /// registered with Kasse, whose page embeds checkout.js.
    pub async fn merchant_site(&self) -> anyhow::Result<MerchantSite> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://localhost:{}", listener.local_addr()?.port());
        let credentials = kasse_server::merchants::create(
            self.store.as_ref(),
            &secret(),
            "Popup Tea House",
            vec![kasse_core::origin::MerchantOrigin::parse(&origin)?],
            kasse_server::clock::Clock::now(&SystemClock),
        )
        .await?;
        let site = sites::MerchantState {
            kasse: self.base.as_str().trim_end_matches('/').to_string(),
            origin: origin.clone(),
            secret_key: credentials.secret_key.clone(),
        };
        tokio::spawn(async move { axum::serve(listener, sites::merchant(site)).await });
        Ok(MerchantSite {
            origin,
            credentials,
        })
    }

    /// An SSLCOMMERZ merchant's site on another origin, registered with
    /// Kasse, with a store_id and store_passwd issued for it.
    pub async fn sslcommerz_shop(&self) -> anyhow::Result<SslcommerzShop> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://localhost:{}", listener.local_addr()?.port());
        let now = kasse_server::clock::Clock::now(&SystemClock);
        let credentials = kasse_server::merchants::create(
            self.store.as_ref(),
            &secret(),
            "Dhaka Book House",
            vec![kasse_core::origin::MerchantOrigin::parse(&origin)?],
            now,
        )
        .await?;
        let store = kasse_server::compat::credentials::issue(
            self.store.as_ref(),
            &secret(),
            &credentials.merchant_id,
            now,
        )
        .await?;
        let posts = Posts::default();
        let site = sites::sslcommerz_shop(sites::ShopState {
            posts: posts.clone(),
            kasse: self.base.as_str().trim_end_matches('/').to_string(),
            origin: origin.clone(),
            store_id: store.store_id.clone(),
            store_passwd: store.store_passwd.clone(),
        });
        tokio::spawn(async move { axum::serve(listener, site).await });
        Ok(SslcommerzShop {
            origin,
            credentials,
            store,
            posts,
        })
    }

    /// A site on an origin no merchant registered.
    pub async fn foreign_site(&self) -> anyhow::Result<String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        tokio::spawn(async move { axum::serve(listener, sites::foreign()).await });
        Ok(origin)
    }

    /// Fills the card form in the current frame.
    pub async fn type_card(&self, number: &str) -> anyhow::Result<()> {
        for (field, value) in [
            ("#card-number", number),
            ("#card-expiry", "1230"),
            ("#card-cvc", "123"),
            ("#card-name", "Ada Lovelace"),
        ] {
            let input = self.find(field).await?;
            input.clear().await?;
            input.send_keys(value).await?;
        }
        Ok(())
    }

    /// Runs JavaScript in the current frame and returns its JSON result.
    pub async fn js(&self, script: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self.browser.execute(script, vec![]).await?)
    }

    /// Sends a Chrome DevTools command through chromedriver.
    pub async fn cdp(
        &self,
        cmd: &'static str,
        params: serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        Ok(self.browser.issue_cmd(Cdp { cmd, params }).await?)
    }

    /// Makes requests to URLs matching these patterns fail as if the
    /// network were down (`*` matches anything); none blocks nothing.
    pub async fn block_urls(&self, patterns: &[&str]) -> anyhow::Result<()> {
        self.cdp("Network.enable", json!({})).await?;
        self.cdp("Network.setBlockedURLs", json!({ "urls": patterns }))
            .await?;
        Ok(())
    }

    /// Holds the page's requests to URLs that match one of `patterns` (`*`
    /// matches anything) until [`Self::release_requests`], so that a screen
    /// that waits for the API stays. Not for navigations: use
    /// [`Self::hold_navigations`].
    pub async fn hold_requests(&self, patterns: &[&str]) -> anyhow::Result<()> {
        let patterns: Vec<_> = patterns
            .iter()
            .map(|p| json!({ "urlPattern": p, "requestStage": "Request" }))
            .collect();
        self.cdp("Fetch.enable", json!({ "patterns": patterns }))
            .await?;
        Ok(())
    }

    /// Lets held requests go on.
    pub async fn release_requests(&self) -> anyhow::Result<()> {
        self.cdp("Fetch.disable", json!({})).await?;
        Ok(())
    }

    /// From now on the current page may not leave: each navigation it
    /// starts is cancelled (the Navigation API's `navigate` event) and its
    /// URL kept for [`Self::held_navigations`]. The page stays on whatever
    /// screen it showed, for a test to look at.
    pub async fn hold_navigations(&self) -> anyhow::Result<()> {
        self.js("window.kasseHeld = [];
             navigation.addEventListener('navigate', e => {
                 if (e.cancelable) { e.preventDefault(); window.kasseHeld.push(e.destination.url); }
             });
             return true;")
            .await?;
        Ok(())
    }

    /// Where the page tried to go since [`Self::hold_navigations`].
    pub async fn held_navigations(&self) -> anyhow::Result<Vec<Url>> {
        let urls: Vec<String> = serde_json::from_value(self.js("return window.kasseHeld").await?)?;
        Ok(urls.iter().filter_map(|u| Url::parse(u).ok()).collect())
    }

    /// Waits until the page has tried to leave for a URL whose path starts
    /// with `path`; returns that URL.
    pub async fn wait_for_held_prefix(&self, path: &str) -> anyhow::Result<Url> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(url) = self
                .held_navigations()
                .await?
                .into_iter()
                .find(|u| u.path().starts_with(path))
            {
                return Ok(url);
            }
            if Instant::now() > deadline {
                bail!(
                    "the page never tried to go to {path}; it shows:\n{}",
                    self.page_text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The languages the browser asks for, most wanted first (`bn-BD,en`).
    pub async fn browser_languages(&self, accept: &str) -> anyhow::Result<()> {
        let agent = self.js("return navigator.userAgent").await?;
        self.cdp(
            "Emulation.setUserAgentOverride",
            json!({ "userAgent": agent, "acceptLanguage": accept }),
        )
        .await?;
        Ok(())
    }

    /// The viewport of a phone (390 × 844) or of the default desktop window.
    pub async fn phone_width(&self, phone: bool) -> anyhow::Result<()> {
        if phone {
            self.cdp(
                "Emulation.setDeviceMetricsOverride",
                json!({ "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true }),
            )
            .await?;
        } else {
            self.cdp("Emulation.clearDeviceMetricsOverride", json!({}))
                .await?;
        }
        Ok(())
    }

    /// Runs axe-core (from npm, `node_modules/axe-core`) on the current
    /// page; returns its serious and critical violations, one line each.
    pub async fn axe(&self) -> anyhow::Result<Vec<String>> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../node_modules/axe-core/axe.min.js"
        );
        let source = std::fs::read_to_string(path)
            .with_context(|| format!("{path}: run `make test`, which installs axe-core"))?;
        self.js(&format!("{source}\nreturn true;")).await?;
        let found = self
            .js(
                "return axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations
                    .filter(v => v.impact === 'serious' || v.impact === 'critical')
                    .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' at '
                        + v.nodes.map(n => n.target.join(' ')).join(', ')))",
            )
            .await?;
        Ok(serde_json::from_value(found)?)
    }

    /// A checkout session of the demo merchant, made through the API with
    /// `changes` over a plain one; returns the page's URL.
    pub async fn create_session(&self, changes: serde_json::Value) -> anyhow::Result<String> {
        let mut body = json!({
            "amount": 1250,
            "currency": "usd",
            "success_url": self.url("/shop/success"),
            "cancel_url": self.url("/shop/cancel"),
            "order_reference": "order-42",
        });
        if let (Some(body), Some(changes)) = (body.as_object_mut(), changes.as_object()) {
            body.extend(changes.clone());
        }
        let response = reqwest::Client::new()
            .post(self.url("/v1/checkout/sessions"))
            .bearer_auth(&self.demo.secret_key)
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(response.status() == 201, "{}", response.text().await?);
        let session: serde_json::Value = response.json().await?;
        session["url"]
            .as_str()
            .map(str::to_string)
            .context("a session has a url")
    }

    pub async fn close(self) -> anyhow::Result<()> {
        self.browser.clone().close().await?;
        Ok(())
    }
}

/// `POST /session/{id}/goog/cdp/execute`: chromedriver's door to DevTools.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(&self, base: &Url, session: Option<&str>) -> Result<Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

async fn start_browser(dir: &TempDir) -> anyhow::Result<(Child, Client)> {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = kasse_testkit::free_addr().port();
    let driver = Command::new(&chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| {
            format!("could not start {chromedriver}: run `make test`, which installs it")
        })?;
    let deadline = Instant::now() + PATIENCE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > deadline {
            bail!("chromedriver did not listen on port {port}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let profile = dir.path().join("chromium-profile");
    let mut options = json!({
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic",
            "--window-size=1280,900",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if std::path::Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = ClientBuilder::new(connector)
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .context("could not open a Chromium session")?;
    Ok((driver, browser))
}
