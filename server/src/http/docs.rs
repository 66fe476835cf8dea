//! `/openapi.json` and `/docs`: the OpenAPI document built from the
//! handlers' annotations, and a reference page rendered from it on the
//! server, so that it reads offline with no script from anywhere.

use std::fmt::Write;

use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kasse API",
        description = "A self-hostable payment gateway. Amounts are integers in the currency's minor units. Every error is `{\"error\": {\"type\", \"code\", \"message\", \"param\"}}`.",
    ),
    modifiers(&Security),
    tags(
        (name = "Checkout sessions", description = "Created by the merchant's server; paid on the hosted page"),
        (name = "Payments", description = "Look up, capture, void and validate payments"),
        (name = "Refunds", description = "Money back, in full or in parts"),
        (name = "Subscriptions", description = "A customer's saved card charged on a calendar kept in a time zone, each cycle exactly once across instances"),
        (name = "Balance", description = "What Kasse holds for the merchant, the ledger that explains it, daily settlements and reports"),
        (name = "Payouts", description = "Money sent from the available balance to a card or a bank account: reserved at once, never paid twice, approved by a second person above a threshold"),
        (name = "Payment links", description = "Links and invoices a customer pays, in parts if allowed, until they expire; emailed with reminders and receipts"),
        (name = "Customers", description = "Customers, their saved cards (numbers only in the encrypted vault) and the mandates under which a merchant charges a card with its customer absent"),
        (name = "Webhooks", description = "Signed events to the merchant's server, retried until delivered"),
        (name = "Appearance", description = "The look of the merchant's payment pages: design tokens, never raw CSS"),
        (name = "Payment page", description = "Called by the hosted page with the session's client secret"),
        (name = "SSLCOMMERZ compatibility", description = "The SSLCOMMERZ v4 API on its original paths, for existing integrations: always HTTP 200 with JSON, errors in the body"),
        (name = "Simple checkout compatibility", description = "`POST /api/v1/checkout` and the customer's return with `transaction_id`"),
        (name = "Operations", description = "Health"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "secret_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The merchant's secret key, `sk_test_…`, from its server only.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "client_secret",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                kasse_core::api::CLIENT_SECRET_HEADER,
                "The checkout session's client secret, from the page URL's fragment.",
            ))),
        );
    }
}

/// The document and its HTML rendering, made once at start-up.
pub struct Reference {
    json: String,
    html: String,
}

impl Reference {
    pub fn new(openapi: &utoipa::openapi::OpenApi) -> Self {
        let mut value = serde_json::to_value(openapi).expect("the document serialises");
        document_common_responses(&mut value);
        Self {
            json: serde_json::to_string_pretty(&value).expect("JSON"),
            html: render(&value),
        }
    }

    pub fn json_response(&self) -> Response {
        let mut response = self.json.clone().into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }

    pub fn html_response(&self) -> Response {
        let mut response = Html(self.html.clone()).into_response();
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        );
        response
    }
}

/// The answers that every operation of a kind can give, added where its
/// own annotation does not name them, so that the document lists every
/// status a client can meet: a missing or wrong key or client secret (401),
/// a terminal role or CSRF token that does not allow it (403), an unknown
/// id (404), a bad query, body or `Idempotency-Key` (400), a key still in
/// flight (409) or reused with another request (422).
fn document_common_responses(doc: &mut Value) {
    let error = |description: &str| {
        serde_json::json!({
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        })
    };
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, operation) in item.iter_mut() {
            let Some(operation) = operation.as_object_mut() else {
                continue;
            };
            let schemes: Vec<String> = operation
                .get("security")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_object)
                .flat_map(|r| r.keys().cloned())
                .collect();
            let parameters: Vec<(String, String)> = operation
                .get("parameters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|p| {
                    let field =
                        |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    (field("in"), field("name"))
                })
                .collect();
            let mut common: Vec<(&str, &str)> = Vec::new();
            if schemes.iter().any(|s| s == "secret_key") {
                common.push(("401", "No API key, or not a valid secret key"));
                common.push((
                    "403",
                    "From the terminal: the member of staff's role does not allow it, or the CSRF token is missing",
                ));
            }
            if schemes.iter().any(|s| s == "client_secret") {
                common.push(("401", "No client secret"));
            }
            if path.contains('{') {
                common.push(("404", "No such object, or not this merchant's"));
            }
            let writes = method != "get" && method != "head";
            if writes || parameters.iter().any(|(place, _)| place == "query") {
                common.push(("400", "A malformed query or body"));
            }
            if parameters.iter().any(|(_, name)| name == "Idempotency-Key") {
                common.push((
                    "409",
                    "A request with this Idempotency-Key is still being processed",
                ));
                common.push(("422", "This Idempotency-Key was used with another request"));
            }
            let responses = operation
                .entry("responses")
                .or_insert_with(|| Value::Object(Default::default()));
            if let Some(responses) = responses.as_object_mut() {
                for (status, description) in common {
                    responses
                        .entry(status)
                        .or_insert_with(|| error(description));
                }
            }
        }
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `#/components/schemas/Payment` → a link to that schema's section.
fn type_of(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r);
        return format!("<a href=\"#schema-{0}\">{0}</a>", esc(name));
    }
    if let Some(options) = schema
        .get("oneOf")
        .or_else(|| schema.get("anyOf"))
        .and_then(Value::as_array)
    {
        let kinds: Vec<String> = options.iter().map(type_of).collect();
        return kinds.join(" | ");
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .map(|v| format!("<code>{}</code>", esc(&v.to_string())))
            .collect();
        return values.join(" | ");
    }
    let kind = match schema.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => "object".into(),
    };
    if let Some(items) = schema.get("items").filter(|_| kind.starts_with("array")) {
        return format!("array of {}", type_of(items));
    }
    esc(&kind)
}

fn render(doc: &Value) -> String {
    let mut html = String::new();
    let title = doc["info"]["title"].as_str().unwrap_or("API");
    let _ = write!(
        html,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{t} reference</title>
<style>
body {{ font-family: system-ui, sans-serif; color: #1d2230; max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 4rem; line-height: 1.5; }}
code, .path {{ font-family: ui-monospace, monospace; }} h2 {{ margin-top: 2.5rem; border-bottom: 1px solid #c9cdd8; }}
.op {{ border: 1px solid #c9cdd8; border-radius: 8px; padding: .5rem 1rem; margin: 1rem 0; }}
.method {{ font-weight: 700; text-transform: uppercase; margin-right: .5rem; }} .get {{ color: #1b6e3a; }} .post {{ color: #3a4ee0; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #e3e5ec; vertical-align: top; }}
</style></head><body><h1>{t}</h1><p>{d}</p><p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI {v}).</p>"#,
        t = esc(title),
        d = esc(doc["info"]["description"].as_str().unwrap_or("")),
        v = esc(doc["openapi"].as_str().unwrap_or("")),
    );
    html.push_str("<h2>Operations</h2>");
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            let Some(methods) = item.as_object() else {
                continue;
            };
            for (method, op) in methods {
                let _ = write!(
                    html,
                    r#"<section class="op" id="{id}"><h3><span class="method {m}">{m}</span><span class="path">{p}</span></h3><p><strong>{s}</strong></p>"#,
                    id = esc(op["operationId"].as_str().unwrap_or("")),
                    m = esc(method),
                    p = esc(path),
                    s = esc(op["summary"].as_str().unwrap_or("")),
                );
                if let Some(d) = op["description"].as_str() {
                    let _ = write!(html, "<p>{}</p>", esc(d));
                }
                if let Some(security) = op["security"].as_array() {
                    let names: Vec<&str> = security
                        .iter()
                        .filter_map(Value::as_object)
                        .flat_map(|o| o.keys().map(String::as_str))
                        .collect();
                    let _ = write!(
                        html,
                        "<p>Authorised by: <code>{}</code></p>",
                        esc(&names.join(", "))
                    );
                }
                if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
                    html.push_str(
                        "<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>About</th></tr>",
                    );
                    for param in params {
                        let _ = write!(
                            html,
                            "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(param["name"].as_str().unwrap_or("")),
                            if param["required"].as_bool() == Some(true) {
                                " (required)"
                            } else {
                                ""
                            },
                            esc(param["in"].as_str().unwrap_or("")),
                            type_of(&param["schema"]),
                            esc(param["description"].as_str().unwrap_or("")),
                        );
                    }
                    html.push_str("</table>");
                }
                if let Some(body) =
                    op["requestBody"]["content"]["application/json"]["schema"].as_object()
                {
                    let _ = write!(
                        html,
                        "<p>Body: {}</p>",
                        type_of(&Value::Object(body.clone()))
                    );
                }
                if let Some(responses) = op["responses"].as_object() {
                    html.push_str("<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>");
                    for (status, response) in responses {
                        let body = response["content"]["application/json"]["schema"]
                            .as_object()
                            .map(|s| type_of(&Value::Object(s.clone())))
                            .unwrap_or_default();
                        let _ = write!(
                            html,
                            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                            esc(status),
                            esc(response["description"].as_str().unwrap_or("")),
                            body
                        );
                    }
                    html.push_str("</table>");
                }
                html.push_str("</section>");
            }
        }
    }
    html.push_str("<h2>Objects</h2>");
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            let _ = write!(html, r#"<section id="schema-{0}"><h3>{0}</h3>"#, esc(name));
            if let Some(d) = schema["description"].as_str() {
                let _ = write!(html, "<p>{}</p>", esc(d));
            }
            if let Some(props) = schema["properties"].as_object() {
                let required: Vec<&str> = schema["required"]
                    .as_array()
                    .map(|r| r.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                html.push_str("<table><tr><th>Field</th><th>Type</th><th>About</th></tr>");
                for (field, prop) in props {
                    let _ = write!(
                        html,
                        "<tr><td><code>{}</code>{}</td><td>{}</td><td>{}</td></tr>",
                        esc(field),
                        if required.contains(&field.as_str()) {
                            ""
                        } else {
                            " (optional)"
                        },
                        type_of(prop),
                        esc(prop["description"].as_str().unwrap_or("")),
                    );
                }
                html.push_str("</table>");
            } else {
                let _ = write!(html, "<p>{}</p>", type_of(schema));
            }
            html.push_str("</section>");
        }
    }
    html.push_str("</body></html>");
    html
}
