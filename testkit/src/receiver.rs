//! A merchant's webhook receiver: it records every delivery, when it came,
//! and answers with the statuses it is told to, 200 once they run out; over
//! plain http, or https with a certificate it is given.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub status: u16,
    /// When it arrived, in Unix milliseconds.
    pub at_ms: f64,
}

impl Delivery {
    pub fn header(&self, name: &str) -> String {
        self.headers[name].to_str().unwrap().to_string()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn kind(&self) -> String {
        self.json()["type"].as_str().unwrap().to_string()
    }
}

fn wall_ms() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

#[derive(Default)]
struct Shared {
    script: VecDeque<u16>,
    /// Answer every request with a 307 to here, if set.
    redirect_to: Option<String>,
    received: Vec<Delivery>,
    delay: Duration,
    /// Requests being answered now, and the most there ever were at once.
    open: usize,
    peak_open: usize,
}

#[derive(Clone)]
pub struct Receiver {
    shared: Arc<Mutex<Shared>>,
    pub addr: SocketAddr,
    /// `http`, or `https` with [`Receiver::start_tls`].
    scheme: &'static str,
    /// The name its URLs use.
    host: String,
}

async fn receive(
    State(shared): State<Arc<Mutex<Shared>>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let delay = {
        let mut shared = shared.lock().unwrap();
        shared.open += 1;
        shared.peak_open = shared.peak_open.max(shared.open);
        shared.delay
    };
    tokio::time::sleep(delay).await;
    let mut shared = shared.lock().unwrap();
    shared.open -= 1;
    if let Some(target) = shared.redirect_to.clone() {
        shared.received.push(Delivery {
            headers,
            body,
            status: 307,
            at_ms: wall_ms(),
        });
        return axum::response::Redirect::temporary(&target).into_response();
    }
    let status = shared.script.pop_front().unwrap_or(200);
    shared.received.push(Delivery {
        headers,
        body,
        status,
        at_ms: wall_ms(),
    });
    StatusCode::from_u16(status).unwrap().into_response()
}

impl Receiver {
    /// Listens on a free port, or on `addr`.
    pub async fn start_on(addr: SocketAddr) -> Self {
        let (shared, app) = Self::app();
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            shared,
            host: addr.ip().to_string(),
            addr,
            scheme: "http",
        }
    }

    fn app() -> (Arc<Mutex<Shared>>, axum::Router) {
        let shared: Arc<Mutex<Shared>> = Arc::default();
        let app = axum::Router::new()
            .route("/hooks", post(receive))
            .route("/session-hooks", post(receive))
            // An SSLCOMMERZ store's IPN URL.
            .route("/ipn", post(receive))
            .with_state(shared.clone());
        (shared, app)
    }

    /// An HTTPS receiver on loopback, reached as `localhost`, with the
    /// certificate and key it is given.
    pub async fn start_tls(tls: Arc<rustls::ServerConfig>) -> Self {
        let (shared, app) = Self::app();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(tls);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    // A client that does not trust the certificate hangs up here.
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
                });
            }
        });
        Self {
            shared,
            addr,
            scheme: "https",
            host: "localhost".into(),
        }
    }

    /// Answers every request with a redirect to `target`.
    pub fn redirect_to(&self, target: &str) {
        self.shared.lock().unwrap().redirect_to = Some(target.to_string());
    }

    pub async fn start() -> Self {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}://{}:{}{path}", self.scheme, self.host, self.addr.port())
    }

    /// The next answers, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.shared.lock().unwrap().script.extend(statuses);
    }

    pub fn delay(&self, delay: Duration) {
        self.shared.lock().unwrap().delay = delay;
    }

    /// Requests waiting for their answer now, and the most at once so far.
    pub fn open_requests(&self) -> (usize, usize) {
        let shared = self.shared.lock().unwrap();
        (shared.open, shared.peak_open)
    }

    /// When each event (by `webhook-id`) first arrived, in Unix milliseconds.
    pub fn arrivals(&self) -> HashMap<String, f64> {
        let mut first = HashMap::new();
        for delivery in &self.shared.lock().unwrap().received {
            if let Some(id) = delivery
                .headers
                .get("webhook-id")
                .and_then(|v| v.to_str().ok())
            {
                first.entry(id.to_string()).or_insert(delivery.at_ms);
            }
        }
        first
    }

    pub fn received(&self) -> Vec<Delivery> {
        self.shared.lock().unwrap().received.clone()
    }

    /// Waits until `ready` holds for what has arrived; fails after `limit`.
    pub async fn wait_for(
        &self,
        limit: Duration,
        ready: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let deadline = Instant::now() + limit;
        loop {
            let received = self.received();
            if ready(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "webhooks did not arrive in time; got {:?}",
                received.iter().map(Delivery::kind).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
