//! A harness for browser tests: a real `kasse serve --demo` on a free port,
//! and headless Chromium driven over WebDriver by chromedriver.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
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

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl Harness {
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let config = Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            database_url: dir.path().join("kasse.db").display().to_string(),
            static_dir: dist_dir()?,
            secret: secret(),
            demo: true,
            sandbox_latency: Duration::ZERO,
            limits: Limits::default(),
            webhooks: WebhookConfig::default(),
        };
        let app = Application::build_with_clock(config, Arc::new(SystemClock)).await?;
        let base = app.base_url().clone();
        let demo = app.demo.clone().context("demo mode makes a merchant")?;
        let store = app.store.clone();
        tokio::spawn(app.run_until_stopped());

        let (driver, browser) = start_browser(&dir).await?;
        Ok(Self {
            base,
            demo,
            browser,
            store,
            _driver: driver,
            _dir: dir,
        })
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

    pub async fn close(self) -> anyhow::Result<()> {
        self.browser.close().await?;
        Ok(())
    }
}

async fn start_browser(dir: &TempDir) -> anyhow::Result<(Child, Client)> {
    let chromedriver = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
    let port = free_port()?;
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
