//! Builds the application from its configuration: binds the listener first,
//! so that tests can ask for port 0 and learn the real port.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use kasse_core::origin::MerchantOrigin;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;
use url::Url;

use crate::clock::{Clock, SystemClock};
use crate::config::{Config, database_url};
use crate::demo::{DEMO_MERCHANT_ID, DEMO_MERCHANT_NAME, DEMO_STAFF_EMAIL, DemoShop};
use crate::http::{ApiError, AppState, HostedPage, api_router};
use crate::merchants::{self, Credentials};
use crate::processor::{Processor, SandboxAcquirer};
use crate::store::{self, Store};

pub struct Application {
    listener: TcpListener,
    router: Router,
    base_url: Url,
    /// The demo merchant's fresh credentials, with `--demo`.
    pub demo: Option<Credentials>,
    /// The demo merchant's admin in the terminal: email and this start's password.
    pub demo_staff: Option<(String, String)>,
    pub store: Arc<dyn Store>,
    /// What the handlers share; the background workers run with it too.
    ctx: AppState,
    /// How long requests in flight may take to finish once told to stop.
    shutdown_grace: std::time::Duration,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let store = store::connect(&database_url(&config.database_url), &config.secret).await?;
        let listener = TcpListener::bind(config.addr).await?;
        let local = listener.local_addr()?;
        let base_url = match &config.public_url {
            Some(url) => Url::parse(url)?,
            None => Url::parse(&format!("http://{local}/"))?,
        };
        let processor: Arc<dyn Processor> = Arc::new(SandboxAcquirer {
            latency: config.sandbox_latency,
            books: Some(store.clone()),
        });
        let hosted_page = Arc::new(HostedPage::load(&config.static_dir));
        let static_files = crate::http::pages::static_files(&hosted_page);
        let ctx = AppState {
            store: store.clone(),
            processor,
            rail: Arc::new(crate::processor::SandboxRail {
                books: store.clone(),
            }),
            live: config.live,
            clock: clock.clone(),
            secret: config.secret.clone(),
            public_url: base_url.clone(),
            hosted_page,
            update_page: Arc::new(HostedPage::load_file(
                &config.static_dir,
                "update/index.html",
            )),
            terminal_page: Arc::new(HostedPage::load_file(
                &config.static_dir,
                "terminal/index.html",
            )),
            limits: config.limits.clone(),
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                config.limits.concurrent_password_checks.max(1),
            )),
            webhook_client: crate::outbound::client(
                &crate::outbound::OutboundConfig {
                    allow_private: config.webhooks.allow_private_addresses,
                    extra_ca_file: config.webhooks.ca_file.clone(),
                },
                config.webhooks.attempt_timeout,
                concat!("Kasse-Webhooks/", env!("CARGO_PKG_VERSION")),
            )?,
            webhooks: config.webhooks.clone(),
            wake_deliveries: Arc::new(tokio::sync::Notify::new()),
            vault: config.vault.clone(),
            mail: config
                .mail
                .clone()
                .map(|mail| {
                    crate::mail::Mailer::new(mail, base_url.host_str().unwrap_or("kasse.invalid"))
                })
                .transpose()?,
            wake_mail: Arc::new(tokio::sync::Notify::new()),
            heartbeats: Arc::default(),
            metrics: Arc::default(),
        };
        let background = ctx.clone();

        let mut router =
            api_router(ctx, crate::compat::surfaces()).nest_service("/static", static_files);
        let mut demo = None;
        let mut demo_staff = None;
        if config.demo {
            let origin = MerchantOrigin::parse(&base_url.origin().ascii_serialization())?;
            let credentials = merchants::ensure_with_new_keys(
                store.as_ref(),
                &config.secret,
                DEMO_MERCHANT_ID,
                DEMO_MERCHANT_NAME,
                vec![origin],
                clock.now(),
            )
            .await?;
            router = router.merge(DemoShop::new(base_url.clone(), credentials.clone()).router());
            let password = crate::staff::ensure_demo_user(
                store.as_ref(),
                DEMO_MERCHANT_ID,
                DEMO_STAFF_EMAIL,
                clock.now(),
            )
            .await?;
            demo_staff = Some((DEMO_STAFF_EMAIL.to_string(), password));
            demo = Some(credentials);
        } else {
            router = router.route("/", axum::routing::get(landing));
        }
        let hsts = base_url.scheme() == "https";
        let metrics = background.metrics.clone();
        let router = router
            .route(
                "/metrics",
                axum::routing::get(crate::http::metrics_page)
                    .with_state((background.clone(), config.metrics_token.clone())),
            )
            .fallback(not_found)
            .layer(axum::middleware::from_fn(move |request, next| {
                crate::metrics::count(metrics.clone(), request, next)
            }))
            .layer(axum::middleware::from_fn(move |request, next| {
                security_headers(hsts, request, next)
            }))
            .layer(TraceLayer::new_for_http().make_span_with(request_span))
            .layer(axum::middleware::from_fn({
                let trusted = Arc::new(config.limits.trusted_proxies.clone());
                move |request, next| crate::request_id::assign(trusted.clone(), request, next)
            }));
        Ok(Self {
            listener,
            router,
            base_url,
            demo,
            demo_staff,
            store,
            ctx: background,
            shutdown_grace: config.shutdown_grace,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map_or(0, |a| a.port())
    }

    /// The URL customers reach this server at, ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The handlers' context, for tests that sweep by hand.
    pub fn context(&self) -> AppState {
        self.ctx.clone()
    }

    /// Serves until Ctrl-C or SIGTERM, then stops accepting and lets the
    /// requests in flight finish, for the grace period at most; the webhook
    /// worker and the sweeper run alongside.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let interval = self.ctx.limits.sweep_interval;
        let deliveries = crate::workers::delivery::start(self.ctx.clone());
        let (stop_mail, mail_stop) = tokio::sync::watch::channel(false);
        let mail = tokio::spawn(crate::workers::mail::run(self.ctx.clone(), mail_stop));
        let sweeper = tokio::spawn(crate::workers::sweeper::run(self.ctx, interval));
        let (told, mut stopping) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown_signal().await;
            tracing::info!("stopping: no new connections; finishing the requests in flight");
            let _ = told.send(true);
        };
        let serving = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .into_future();
        let grace = self.shutdown_grace;
        let served = tokio::select! {
            served = serving => served,
            _ = async {
                let _ = stopping.wait_for(|s| *s).await;
                tokio::time::sleep(grace).await;
            } => {
                tracing::warn!(grace_seconds = grace.as_secs(), "stopped with requests still in flight: the grace period ran out");
                Ok(())
            }
        };
        sweeper.abort();
        // The requests are done: hand back the emails and the deliveries
        // not yet started, and finish those under way.
        let _ = stop_mail.send(true);
        let (mail_stopped, ()) =
            tokio::join!(tokio::time::timeout(grace, mail), deliveries.stop(grace));
        if mail_stopped.is_err() {
            tracing::warn!("the mail worker did not stop within the grace period");
        }
        tracing::info!("stopped");
        served
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}

/// What every answer carries, pages and static files included: `nosniff`;
/// under https, HSTS; on the API, `no-store`, so no cache keeps a payment,
/// a key or a client secret.
/// A request's span names its id, method and path, never its query
/// string: SSLCOMMERZ's clients send `store_passwd` there.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(&crate::request_id::HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", request_id = %id, method = %request.method(), path = %request.uri().path())
}

async fn security_headers(
    hsts: bool,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    let api = request.uri().path().starts_with("/v1/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if hsts {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    response
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::NotFound {
        kind: "route",
        id: uri.path().to_string(),
    }
}

async fn landing() -> (StatusCode, axum::response::Html<&'static str>) {
    (
        StatusCode::OK,
        axum::response::Html(
            "<!doctype html><title>Kasse</title><h1>Kasse</h1>\
             <p>A self-hostable payment gateway. The API lives under <code>/v1</code>; \
             health at <a href=\"/healthz\">/healthz</a>.</p>",
        ),
    )
}
