//! Merchant origins: the only places a customer may be sent back to.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

/// A web origin (`scheme://host[:port]`) a merchant registered.
///
/// Only `https`, plus `http` on `localhost` and `127.0.0.1`, which sandbox
/// merchants need for development.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MerchantOrigin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginError {
    #[error("`{0}` is not an absolute URL")]
    NotAUrl(String),
    #[error("`{0}` must use https (http is allowed only for localhost and 127.0.0.1)")]
    Insecure(String),
    #[error("`{0}` must be an origin only: scheme, host and port, with no path, query or fragment")]
    NotAnOrigin(String),
}

/// Whether a URL may use plain http: loopback hosts, for development.
pub fn is_loopback_http(url: &Url) -> bool {
    url.scheme() == "http" && matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
}

fn check_scheme(url: &Url, input: &str) -> Result<(), OriginError> {
    if url.scheme() == "https" || is_loopback_http(url) {
        Ok(())
    } else {
        Err(OriginError::Insecure(input.to_string()))
    }
}

impl MerchantOrigin {
    pub fn parse(input: &str) -> Result<Self, OriginError> {
        let url = Url::parse(input.trim()).map_err(|_| OriginError::NotAUrl(input.to_string()))?;
        check_scheme(&url, input)?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(OriginError::NotAnOrigin(input.to_string()));
        }
        Ok(Self(url.origin().ascii_serialization()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `url` lies on this origin.
    pub fn contains(&self, url: &Url) -> bool {
        url.origin().ascii_serialization() == self.0
    }
}

/// Parses a redirect URL and checks that it lies on one of `origins`.
pub fn redirect_url_on(input: &str, origins: &[MerchantOrigin]) -> Result<Url, RedirectUrlError> {
    let url = Url::parse(input.trim()).map_err(|_| RedirectUrlError::NotAUrl)?;
    check_scheme(&url, input).map_err(|_| RedirectUrlError::Insecure)?;
    if origins.iter().any(|o| o.contains(&url)) {
        Ok(url)
    } else {
        Err(RedirectUrlError::OffOrigin)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RedirectUrlError {
    #[error("is not an absolute URL")]
    NotAUrl,
    #[error("must use https (http is allowed only for localhost and 127.0.0.1)")]
    Insecure,
    #[error("is not on any of the merchant's registered origins")]
    OffOrigin,
}

impl TryFrom<String> for MerchantOrigin {
    type Error = OriginError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<MerchantOrigin> for String {
    fn from(value: MerchantOrigin) -> Self {
        value.0
    }
}

impl fmt::Debug for MerchantOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for MerchantOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
