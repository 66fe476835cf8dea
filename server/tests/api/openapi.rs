use serde_json::Value;

use crate::helpers::spawn_app;

const OPERATIONS: [(&str, &str); 79] = [
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/v1/payouts"),
    ("post", "/v1/payouts"),
    ("get", "/v1/payouts/{id}"),
    ("post", "/v1/payouts/{id}/approve"),
    ("post", "/v1/payouts/{id}/cancel"),
    ("post", "/v1/sandbox/top_ups"),
    ("post", "/v1/reports"),
    ("get", "/v1/reports/{id}"),
    ("get", "/v1/reports/{id}/file"),
    ("get", "/v1/settlements/{id}/report"),
    ("get", "/v1/settlements"),
    ("get", "/v1/settlements/{id}"),
    ("get", "/v1/settlements/{id}/transactions"),
    ("get", "/v1/balance"),
    ("get", "/v1/balance_transactions"),
    ("get", "/v1/balance_transactions/{id}"),
    ("get", "/v1/payment_links"),
    ("post", "/v1/payment_links"),
    ("get", "/v1/payment_links/{id}"),
    ("post", "/v1/payment_links/{id}"),
    ("post", "/v1/payment_links/{id}/cancel"),
    ("post", "/v1/payment_links/{id}/send"),
    ("post", "/v1/payment_links/{id}/new_url"),
    ("get", "/v1/payment_links/{id}/notifications"),
    ("post", "/v1/checkout/sessions"),
    ("get", "/v1/checkout/sessions/{id}"),
    ("post", "/v1/checkout/sessions/{id}/expire"),
    ("get", "/v1/pay/{id}"),
    ("post", "/v1/pay/{id}/confirm"),
    ("get", "/v1/payments"),
    ("post", "/v1/payments"),
    ("get", "/v1/payments/{id}"),
    ("post", "/v1/payments/{id}/capture"),
    ("post", "/v1/payments/{id}/void"),
    ("get", "/v1/payments/{id}/validate"),
    ("post", "/v1/refunds"),
    ("get", "/v1/refunds"),
    ("get", "/v1/refunds/{id}"),
    ("post", "/v1/webhook_endpoints"),
    ("get", "/v1/webhook_endpoints"),
    ("delete", "/v1/webhook_endpoints/{id}"),
    ("post", "/v1/webhook_endpoints/{id}/rotate_secret"),
    ("get", "/v1/events"),
    ("get", "/v1/events/{id}"),
    ("post", "/v1/events/{id}/resend"),
    ("get", "/v1/merchant/appearance"),
    ("put", "/v1/merchant/appearance"),
    ("post", "/v1/customers"),
    ("get", "/v1/customers"),
    ("get", "/v1/customers/{id}"),
    ("post", "/v1/customers/{id}"),
    ("delete", "/v1/customers/{id}"),
    ("get", "/v1/customers/{id}/payment_methods"),
    ("get", "/v1/customers/{id}/mandates"),
    ("get", "/v1/payment_methods/{id}"),
    ("post", "/v1/payment_methods/{id}/detach"),
    ("post", "/v1/payment_methods/{id}/update_link"),
    ("get", "/v1/pay/update/{id}"),
    ("post", "/v1/pay/update/{id}/confirm"),
    ("get", "/v1/mandates/{id}"),
    ("post", "/v1/mandates/{id}/revoke"),
    ("post", "/v1/subscriptions"),
    ("get", "/v1/subscriptions"),
    ("get", "/v1/subscriptions/{id}"),
    ("get", "/v1/subscriptions/{id}/upcoming"),
    ("post", "/v1/subscriptions/{id}/pause"),
    ("post", "/v1/subscriptions/{id}/resume"),
    ("post", "/v1/subscriptions/{id}/cancel"),
    // The SSLCOMMERZ v4 surface, on its original paths.
    ("post", "/gwprocess/v4/api.php"),
    ("post", "/gwprocess/v3/api.php"),
    ("get", "/validator/api/validationserverAPI.php"),
    ("post", "/validator/api/validationserverAPI.php"),
    ("get", "/validator/api/merchantTransIDvalidationAPI.php"),
    ("post", "/validator/api/merchantTransIDvalidationAPI.php"),
    ("post", "/v1/merchant/sslcommerz_credentials"),
    // The simple checkout surface.
    ("post", "/api/v1/checkout"),
    ("get", "/api/v1/transactions/{transaction_id}"),
];

fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|v| refs(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_lists_every_operation_and_its_references_resolve() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = OPERATIONS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    for (method, path) in OPERATIONS {
        let op = &doc["paths"][path][method];
        assert!(
            op["summary"].as_str().is_some_and(|s| !s.is_empty()),
            "{method} {path}"
        );
        assert!(op["responses"].as_object().is_some_and(|r| !r.is_empty()));
        if path.starts_with("/v1/") && !path.starts_with("/v1/pay/") {
            assert_eq!(
                op["security"][0]["secret_key"],
                serde_json::json!([]),
                "{path}"
            );
        }
        // SSLCOMMERZ's clients never send one; its calls are not keyed.
        let keyed = path.starts_with("/v1/") || path.starts_with("/api/");
        if method == "post" && keyed && !path.starts_with("/v1/pay/") {
            let params = op["parameters"].as_array().unwrap();
            assert!(
                params
                    .iter()
                    .any(|p| p["name"] == "Idempotency-Key" && p["in"] == "header"),
                "{method} {path} documents Idempotency-Key"
            );
        }
        // Each documented operation is served (a route that does not exist answers "No such route").
        let url = app.url(&path.replace("{id}", "x"));
        let request = if method == "get" {
            app.http.get(&url)
        } else {
            app.http.post(&url)
        };
        let answer = request.send().await.unwrap().text().await.unwrap();
        assert!(
            !answer.contains("No such route"),
            "{method} {path}: {answer}"
        );
    }

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 20);
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .expect("local schema refs");
        assert!(schemas.contains_key(name), "{r} resolves");
    }
    let card = &schemas["CardInput"]["properties"];
    assert_eq!(card["number"]["type"], "string");
    assert!(doc["components"]["securitySchemes"]["client_secret"].is_object());
}

#[tokio::test]
async fn the_reference_page_reads_without_any_outside_resource() {
    let app = spawn_app().await;
    let response = app.http.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
    let html = response.text().await.unwrap();
    for (method, path) in OPERATIONS {
        assert!(
            html.contains(&format!(
                "<span class=\"method {method}\">{method}</span><span class=\"path\">{path}</span>"
            )),
            "{method} {path}"
        );
    }
    for title in [
        "Create a checkout session",
        "Refund a payment",
        "Validate a payment before fulfilling the order",
    ] {
        assert!(html.contains(title), "{title}");
    }
    assert!(html.contains("id=\"schema-CheckoutSession\""));
    assert!(!html.contains("<script"), "no scripts");
    assert!(!html.contains("https://"), "nothing fetched from elsewhere");
}

#[tokio::test]
async fn the_document_lists_every_error_code() {
    let app = spawn_app().await;
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    let schemas = &doc["components"]["schemas"];
    assert_eq!(
        schemas["ErrorDetail"]["properties"]["code"]["$ref"],
        "#/components/schemas/ErrorCode"
    );
    let listed: Vec<&str> = schemas["ErrorCode"]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", schemas["ErrorCode"]))
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for code in kasse_core::error::ErrorCode::ALL {
        assert!(listed.contains(&code.as_str()), "{code} is not listed");
    }
}
