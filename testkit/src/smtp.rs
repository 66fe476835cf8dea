//! A real SMTP server for the tests and the demo: `mailin-embedded` on
//! loopback, STARTTLS with a certificate for `localhost` signed by a CA
//! made for it (whose PEM Kasse is told to trust), answering each message
//! as told (`250`, or a `451` or `550` to see Kasse retry or give up), and
//! keeping what it accepted.

use std::collections::VecDeque;
use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::{Handler, Response, Server, SslConfig};

/// A message the sink accepted.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent, headers and body.
    pub data: String,
}

impl Mail {
    /// A header's value (the first of that name), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut value: Option<String> = None;
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some(v) = value.as_mut() {
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            if value.is_some() {
                break;
            }
            if let Some((key, rest)) = line.split_once(':')
                && key.eq_ignore_ascii_case(name)
            {
                value = Some(rest.trim().to_string());
            }
        }
        value
    }

    /// The text part, decoded from quoted-printable or base64.
    pub fn text(&self) -> String {
        decode_parts(&self.data, "text/plain")
    }

    pub fn html(&self) -> String {
        decode_parts(&self.data, "text/html")
    }
}

/// The body of the first MIME part of `kind`, decoded.
fn decode_parts(data: &str, kind: &str) -> String {
    for part in data.split("\r\n--") {
        let (head, body) = part.split_once("\r\n\r\n").unwrap_or(("", ""));
        let head_lower = head.to_ascii_lowercase();
        if !head_lower.contains(&format!("content-type: {kind}")) {
            continue;
        }
        let body = body.split("\r\n--").next().unwrap_or(body);
        if head_lower.contains("content-transfer-encoding: base64") {
            let joined: String = body.split_whitespace().collect();
            return String::from_utf8_lossy(&base64_decode(&joined)).into_owned();
        }
        if head_lower.contains("content-transfer-encoding: quoted-printable") {
            return quoted_printable(body);
        }
        return body.to_string();
    }
    String::new()
}

fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter(|c| *c != b'=') {
        let Some(value) = ALPHABET.iter().position(|a| *a == c) else {
            continue;
        };
        buffer = (buffer << 6) | value as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

fn quoted_printable(s: &str) -> String {
    let mut out = Vec::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'=' if bytes.get(i + 1) == Some(&b'\r') => i += 3,
            b'=' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Default)]
struct Shared {
    /// How to answer the next messages; `250` once these run out.
    answers: VecDeque<u16>,
    /// Every message's end of data, with the answer given.
    attempts: Vec<(u16, Mail)>,
    /// Where accepted messages are also written, one `.eml` file each.
    spool: Option<PathBuf>,
    /// Answers every greeting with `421` and hangs up, as a server that is
    /// down for maintenance does.
    down: bool,
    /// How long each message's end of data waits for its answer.
    delay: std::time::Duration,
}

#[derive(Clone)]
struct Sink {
    shared: Arc<Mutex<Shared>>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        if self.shared.lock().expect("not poisoned").down {
            let mut response = Response::custom(421, "4.3.2 Down for maintenance".into());
            response.action = mailin_embedded::Action::Close;
            return response;
        }
        mailin_embedded::response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let delay = self.shared.lock().expect("not poisoned").delay;
        std::thread::sleep(delay);
        let mail = Mail {
            from: self.from.clone(),
            to: self.to.clone(),
            data: String::from_utf8_lossy(&self.data).into_owned(),
        };
        let mut shared = self.shared.lock().expect("not poisoned");
        let code = shared.answers.pop_front().unwrap_or(250);
        if code == 250
            && let Some(spool) = &shared.spool
        {
            let n = shared.attempts.iter().filter(|(c, _)| *c == 250).count();
            let _ = std::fs::write(spool.join(format!("{:04}.eml", n + 1)), &mail.data);
        }
        shared.attempts.push((code, mail));
        let mut response = match code {
            250 => return mailin_embedded::response::OK,
            451 => Response::custom(451, "4.3.0 Try again later".into()),
            550 => Response::custom(550, "5.1.1 No such mailbox".into()),
            other => Response::custom(other, "As the test asked".into()),
        };
        // mailin answers nothing after a refused message (not even RSET):
        // the connection ends with the refusal, as some servers do.
        response.action = mailin_embedded::Action::Close;
        response
    }
}

/// A CA made for one sink, and where its files are.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
        let dir = tempfile::tempdir().expect("a temporary directory");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Kasse mail sink CA");
        let ca_key = KeyPair::generate().expect("a CA key");
        let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");
        let leaf_key = KeyPair::generate().expect("a key");
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .expect("params")
            .signed_by(&leaf_key, &ca, &ca_key)
            .expect("a certificate");
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).expect("written");
        std::fs::write(dir.path().join("cert.pem"), leaf.pem()).expect("written");
        std::fs::write(dir.path().join("chain.pem"), ca.pem()).expect("written");
        std::fs::write(dir.path().join("key.pem"), leaf_key.serialize_pem()).expect("written");
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// An SMTP server on loopback with STARTTLS, running until the process ends.
pub struct SmtpSink {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    pki: Pki,
}

impl SmtpSink {
    pub fn start() -> Self {
        Self::start_on(TcpListener::bind("127.0.0.1:0").expect("a port"), None)
    }

    /// On `listener`; with `spool`, each accepted message is also written
    /// there as a `.eml` file.
    pub fn start_on(listener: TcpListener, spool: Option<&Path>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let addr = listener.local_addr().expect("an address");
        let pki = Pki::new();
        let shared = Arc::new(Mutex::new(Shared {
            spool: spool.map(Path::to_path_buf),
            ..Shared::default()
        }));
        let handler = Sink {
            shared: shared.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(handler);
        server
            .with_name("localhost")
            .with_ssl(SslConfig::Trusted {
                cert_path: pki.path("cert.pem"),
                key_path: pki.path("key.pem"),
                chain_path: pki.path("chain.pem"),
            })
            .expect("TLS for the sink")
            .with_num_threads(4)
            .with_tcp_listener(listener);
        std::thread::Builder::new()
            .name("smtp-sink".into())
            .spawn(move || {
                if let Err(e) = server.serve() {
                    eprintln!("the SMTP sink stopped: {e}");
                }
            })
            .expect("a thread for the sink");
        Self { addr, shared, pki }
    }

    /// `smtp://localhost:PORT`: STARTTLS to `localhost`.
    pub fn url(&self) -> String {
        format!("smtp://localhost:{}", self.addr.port())
    }

    /// The CA that signed the sink's certificate, as a PEM file.
    pub fn ca_file(&self) -> PathBuf {
        PathBuf::from(self.pki.path("ca.pem"))
    }

    /// Answers the next messages with these codes, then `250` again.
    pub fn answer(&self, codes: &[u16]) {
        self.shared
            .lock()
            .expect("not poisoned")
            .answers
            .extend(codes.iter().copied());
    }

    /// While down, every connection is refused with `421` after its greeting.
    /// Answers each message only after `delay`, as a slow server does.
    pub fn set_delay(&self, delay: std::time::Duration) {
        self.shared.lock().expect("not poisoned").delay = delay;
    }

    pub fn set_down(&self, down: bool) {
        self.shared.lock().expect("not poisoned").down = down;
    }

    /// Every end of data so far, with the code it got.
    pub fn attempts(&self) -> Vec<(u16, Mail)> {
        self.shared.lock().expect("not poisoned").attempts.clone()
    }

    /// The messages accepted.
    pub fn received(&self) -> Vec<Mail> {
        self.attempts()
            .into_iter()
            .filter(|(code, _)| *code == 250)
            .map(|(_, mail)| mail)
            .collect()
    }

    /// Waits until `done` holds for the accepted messages, or panics.
    pub async fn wait_for(&self, patience: Duration, done: impl Fn(&[Mail]) -> bool) -> Vec<Mail> {
        let deadline = Instant::now() + patience;
        loop {
            let received = self.received();
            if done(&received) {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "the sink did not get the mail in time; it has {} messages: {:#?}",
                received.len(),
                received
                    .iter()
                    .map(|m| m.header("Subject"))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
