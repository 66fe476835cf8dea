//! Requests that leave Kasse (webhooks): over TLS with the web's roots and
//! any extra CA the operator names, and never into the network Kasse runs
//! in. Where a request may go is decided at connect time, on the addresses
//! its host really resolves to, so a name that points at 127.0.0.1 or a
//! cloud metadata address is refused like the address itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Why an address is no place for a merchant's URL; `None` for a public one.
pub fn internal_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, ..) => "unspecified (0.0.0.0/8)",
        (127, ..) => "loopback",
        (10, ..) | (192, 168, _) => "private (RFC 1918)",
        (172, b, _) if (16..32).contains(&b) => "private (RFC 1918)",
        (169, 254, _) => "link-local (incl. cloud metadata)",
        (100, b, _) if (64..128).contains(&b) => "shared address space (CGNAT, 100.64.0.0/10)",
        (192, 0, 0) => "IETF protocol assignments (192.0.0.0/24)",
        (198, 18 | 19, _) => "benchmarking (198.18.0.0/15)",
        (224..=239, ..) => "multicast",
        (240..=255, ..) => "reserved or broadcast",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    let embedded_v4 =
        || Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    if ip.is_unspecified() {
        return Some("unspecified (::)");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that carry an IPv4 address: judged by that address.
    let carries_v4 = (s[..5] == [0; 5] && s[5] == 0xffff) // IPv4-mapped ::ffff:a.b.c.d
        || (s[..6] == [0; 6]) // IPv4-compatible ::a.b.c.d
        || (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]); // NAT64 64:ff9b::/96
    if carries_v4 {
        return v4_reason(embedded_v4());
    }
    if s[0] == 0x2002 {
        // 6to4: the IPv4 address sits in the second and third groups.
        let v4 = Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8);
        return v4_reason(v4);
    }
    Some(match s[0] {
        0x64 if s[1] == 0xff9b && s[2] == 1 => "local-use NAT64 (64:ff9b:1::/48)",
        x if x & 0xfe00 == 0xfc00 => "unique-local (fc00::/7)",
        x if x & 0xffc0 == 0xfe80 => "link-local (fe80::/10)",
        x if x & 0xffc0 == 0xfec0 => "site-local (fec0::/10)",
        x if x & 0xff00 == 0xff00 => "multicast",
        0x0100 if s[1..4] == [0, 0, 0] => "discard-only (100::/64)",
        _ => return None,
    })
}

/// A destination Kasse will not connect to, and why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The URL's own host, if it is an address: a request to it skips name
/// resolution, so it is judged here.
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), Refused> {
    if allow_private {
        return Ok(());
    }
    let ip = match url.host() {
        Some(Host::Ipv4(v4)) => IpAddr::V4(v4),
        Some(Host::Ipv6(v6)) => IpAddr::V6(v6),
        _ => return Ok(()),
    };
    match internal_reason(ip) {
        Some(reason) => Err(Refused(format!(
            "{ip} is {reason}: Kasse sends nothing there unless started with --webhook-allow-private"
        ))),
        None => Ok(()),
    }
}

/// Resolves names as the system does, then keeps only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| Refused(format!("{host} could not be resolved: {e}")))?
                .collect();
            let (public, internal): (Vec<SocketAddr>, Vec<SocketAddr>) = found
                .into_iter()
                .partition(|a| internal_reason(a.ip()).is_none());
            if public.is_empty() {
                let why = internal
                    .iter()
                    .map(|a| format!("{} ({})", a.ip(), internal_reason(a.ip()).unwrap_or("")))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Box::new(Refused(format!(
                    "{host} resolves only to addresses Kasse does not send to: {why}; \
                     start Kasse with --webhook-allow-private to allow them"
                )))
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// How outgoing requests are made.
#[derive(Debug, Clone, Default)]
pub struct OutboundConfig {
    /// Connect to private, loopback and link-local addresses too (the demo, tests).
    pub allow_private: bool,
    /// PEM certificates trusted besides the web's roots.
    pub extra_ca_file: Option<std::path::PathBuf>,
}

/// Reads a PEM bundle of one or more CA certificates.
fn read_ca_bundle(path: &Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .with_context(|| format!("{} is not a PEM certificate bundle", path.display()))?;
    anyhow::ensure!(
        !certificates.is_empty(),
        "{} holds no PEM certificate",
        path.display()
    );
    Ok(certificates)
}

/// A client that follows no redirect, uses no proxy from the environment,
/// trusts the web PKI plus the operator's CAs, and (unless private
/// addresses are allowed) connects only to public addresses.
pub fn client(
    config: &OutboundConfig,
    timeout: Duration,
    user_agent: &str,
) -> anyhow::Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(true)
        .https_only(false)
        .no_proxy()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(user_agent);
    if let Some(path) = &config.extra_ca_file {
        for certificate in read_ca_bundle(path)? {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if !config.allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    Ok(builder.build()?)
}

/// What went wrong with a request, in words for the attempt log: the
/// refusal or the TLS or connection error underneath, not reqwest's summary.
pub fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {timeout:?}");
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut innermost = error.to_string();
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<Refused>() {
            return format!("refused: {refused}");
        }
        innermost = e.to_string();
        source = e.source();
    }
    if error.is_connect() {
        format!("could not connect: {innermost}")
    } else {
        innermost
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        internal_reason(s.parse().unwrap())
    }

    #[test]
    fn every_internal_class_is_refused() {
        for (address, class) in [
            ("127.0.0.1", "loopback"),
            ("127.8.9.10", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "CGNAT"),
            ("100.127.255.254", "CGNAT"),
            ("0.0.0.0", "unspecified"),
            ("224.0.0.251", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fc00::1", "unique-local"),
            ("fd12:3456::1", "unique-local"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.0.0.1", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("64:ff9b::7f00:1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("64:ff9b:1::1", "NAT64"),
            ("2002:7f00:1::", "loopback"),
            ("::127.0.0.1", "loopback"),
        ] {
            let found = reason(address).unwrap_or_else(|| panic!("{address} was let through"));
            assert!(found.contains(class), "{address}: {found}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "93.184.215.14",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:93.184.215.14",
            "64:ff9b::808:808",
        ] {
            assert_eq!(reason(address), None, "{address}");
        }
    }

    #[test]
    fn literal_hosts_are_judged_unless_private_is_allowed() {
        let url = Url::parse("http://[::ffff:7f00:1]:8080/hook").unwrap();
        let refused = check_literal(&url, false).unwrap_err().to_string();
        assert!(refused.contains("loopback"), "{refused}");
        assert!(check_literal(&url, true).is_ok());
        assert!(check_literal(&Url::parse("https://shop.example/").unwrap(), false).is_ok());
    }
}
