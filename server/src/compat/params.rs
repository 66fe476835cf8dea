//! The parameters of an SSLCOMMERZ-style call, wherever the client put
//! them: the query string, and a form-urlencoded or multipart body. Body
//! fields win over query fields; a value sent empty counts as absent.

use std::collections::HashMap;

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use bytes::Bytes;

/// The largest body these calls read (SSLCOMMERZ's fields are short; a
/// cart JSON can be a few kilobytes).
const MAX_BODY: usize = 64 * 1024;

#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    #[cfg(test)]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        let mut params = Self::default();
        params.fill(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        params
    }

    /// Adds fields not set yet; empty values are dropped.
    fn fill(&mut self, pairs: impl IntoIterator<Item = (String, String)>) {
        for (name, value) in pairs {
            if !value.is_empty() {
                self.0.entry(name).or_insert(value);
            }
        }
    }

    /// A field's value, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A field's value as sent, for the fields echoed unchanged.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A field matched case-insensitively (the old WHMCS module sends
    /// `Store_Id` and `Store_Passwd`).
    pub fn get_ci(&self, name: &str) -> Option<&str> {
        self.get(name).or_else(|| {
            self.0
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        })
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Why a body could not be read: the surfaces answer it in their own shape.
#[derive(Debug)]
pub struct Unreadable(pub String);

impl axum::response::IntoResponse for Unreadable {
    fn into_response(self) -> axum::response::Response {
        // HTTP 200, as SSLCOMMERZ answers everything; the handlers take the
        // rejection themselves and answer in their own shape.
        axum::Json(serde_json::json!({ "status": "FAILED", "failedreason": self.0 }))
            .into_response()
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Unreadable;

    async fn from_request(req: Request, state: &S) -> Result<Self, Unreadable> {
        let query: Vec<(String, String)> = req
            .uri()
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .into_owned()
                    .collect()
            })
            .unwrap_or_default();
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut params = Params::default();
        if content_type.starts_with("multipart/form-data") {
            let mut form = Multipart::from_request(req, state)
                .await
                .map_err(|e| Unreadable(format!("The multipart body cannot be read: {e}.")))?;
            let mut fields = Vec::new();
            let mut size = 0;
            while let Some(field) = form
                .next_field()
                .await
                .map_err(|e| Unreadable(format!("The multipart body cannot be read: {e}.")))?
            {
                let Some(name) = field.name().map(str::to_string) else {
                    continue;
                };
                let value = field
                    .text()
                    .await
                    .map_err(|e| Unreadable(format!("Field '{name}' cannot be read: {e}.")))?;
                size += name.len() + value.len();
                if size > MAX_BODY {
                    return Err(Unreadable("The body is larger than 64 KiB.".into()));
                }
                fields.push((name, value));
            }
            params.fill(fields);
        } else if !content_type.starts_with("application/json") {
            // Form-urlencoded, or no content type at all (Node's validator
            // calls send an empty POST).
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| Unreadable(format!("The body cannot be read: {e}.")))?;
            if body.len() > MAX_BODY {
                return Err(Unreadable("The body is larger than 64 KiB.".into()));
            }
            params.fill(url::form_urlencoded::parse(&body).into_owned());
        }
        params.fill(query);
        Ok(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_absent_and_names_match_case_insensitively_only_when_asked() {
        let params = Params::from_pairs([
            ("store_id", "abc"),
            ("cus_fax", ""),
            ("Store_Passwd", "pw"),
            ("value_a", " kept "),
        ]);
        assert_eq!(params.get("store_id"), Some("abc"));
        assert_eq!(params.get("cus_fax"), None);
        assert!(!params.has("cus_fax"));
        assert_eq!(params.get("store_passwd"), None);
        assert_eq!(params.get_ci("store_passwd"), Some("pw"));
        assert_eq!(params.raw("value_a"), Some(" kept "));
        assert_eq!(params.get("value_a"), Some("kept"));
    }
}
