//! The card vault end to end, through the `kasse` binary as an operator
//! runs it: cards saved and charged leave no number and no CVC in any
//! table, in the database's files or in the log, and `kasse vault rotate`
//! moves the vault to a new key with every saved card still charging. On
//! SQLite, and on PostgreSQL under `KASSE_TEST_STORE=postgres`.

use std::path::Path;

use kasse_testkit::process::{Kasse, Serve, create_merchant};
use serde_json::{Value, json};

use crate::at_rest::forms;
use crate::helpers::stored_text;

const SECRET: &str = "vault test server secret, 32+ characters long";
const SHOP: &str = "https://shop.example";
const BINARY: &str = env!("CARGO_BIN_EXE_kasse");

/// The test's cards: each is saved on the payment page, then charged
/// off-session; the CVC goes only with the first payment.
const CARDS: [(&str, &str); 3] = [
    ("4242424242424242", "739"),
    ("5555555555554444", "461"),
    ("378282246310005", "8153"),
];

struct Run<'a> {
    http: reqwest::Client,
    base: String,
    key: &'a str,
}

impl Run<'_> {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn confirm(&self, session: &Value, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!(
                "{}/v1/pay/{}/confirm",
                self.base,
                session["id"].as_str().unwrap()
            ))
            .header(
                kasse_core::api::CLIENT_SECRET_HEADER,
                session["client_secret"].as_str().unwrap(),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn charge(&self, customer: &str, pm: &str) -> (u16, Value) {
        self.post(
            "/v1/payments",
            json!({"amount": 1990, "currency": "USD", "off_session": true,
                   "customer": customer, "payment_method": pm}),
        )
        .await
    }
}

async fn serve(database: &str, log: &Path, vault: (&str, &str)) -> Kasse {
    Kasse::serve(Serve {
        binary: Path::new(BINARY),
        database,
        secret: Some(SECRET),
        addr: "127.0.0.1:0".parse().unwrap(),
        log,
        args: &[],
        // Everything Kasse would log, at its most talkative.
        env: &[("RUST_LOG", "debug"), vault],
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn saved_cards_leave_no_number_or_cvc_anywhere_and_survive_a_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    // The key lives apart from the database, as the vault insists.
    let keys = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let database = if crate::postgres::wanted() {
        crate::postgres::fresh_database().await
    } else {
        data.join("kasse.db").display().to_string()
    };
    let old_key = kasse_server::vault::Vault::generate_key();
    let key_file = keys.path().join("vault.key");
    std::fs::write(&key_file, &old_key).unwrap();
    let key_file = key_file.display().to_string();
    let log = dir.path().join("kasse.log");

    // A key file beside a SQLite database is refused.
    if !crate::postgres::wanted() {
        let beside = data.join("vault.key");
        std::fs::write(&beside, &old_key).unwrap();
        let refused = Kasse::serve(Serve {
            binary: Path::new(BINARY),
            database: &database,
            secret: Some(SECRET),
            addr: "127.0.0.1:0".parse().unwrap(),
            log: &dir.path().join("refused.log"),
            args: &[],
            env: &[("KASSE_VAULT_KEY_FILE", beside.to_str().unwrap())],
        })
        .await;
        assert!(refused.is_err(), "kasse refuses to start");
        let reason = std::fs::read_to_string(dir.path().join("refused.log")).unwrap();
        assert!(reason.contains("database's directory"), "{reason}");
        std::fs::remove_file(&beside).unwrap();
    }

    let secret_key =
        create_merchant(Path::new(BINARY), &database, Some(SECRET), "Shop", SHOP).unwrap();
    let kasse = serve(&database, &log, ("KASSE_VAULT_KEY_FILE", &key_file)).await;
    let run = Run {
        http: reqwest::Client::new(),
        base: kasse.base.clone(),
        key: &secret_key,
    };
    let (status, customer) = run.post("/v1/customers", json!({"name": "Ada"})).await;
    assert_eq!(status, 201);
    let customer = customer["id"].as_str().unwrap().to_string();
    let mut saved = Vec::new();
    for (number, cvc) in CARDS {
        let (status, session) = run
            .post(
                "/v1/checkout/sessions",
                json!({"amount": 2500, "currency": "USD", "success_url": format!("{SHOP}/ok"),
                       "cancel_url": format!("{SHOP}/cart"), "customer": customer, "save_card": "optional"}),
            )
            .await;
        assert_eq!(status, 201, "{session}");
        let (status, paid) = run
            .confirm(
                &session,
                json!({"card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": cvc,
                                "name": "Ada Lovelace"}, "save_card": true}),
            )
            .await;
        assert_eq!(status, 200, "{paid}");
        let payment: Value = run
            .http
            .get(format!(
                "{}/v1/payments/{}",
                run.base,
                paid["payment_id"].as_str().unwrap()
            ))
            .bearer_auth(&secret_key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        saved.push(payment["payment_method"].as_str().unwrap().to_string());
    }
    for pm in &saved {
        let (status, charged) = run.charge(&customer, pm).await;
        assert_eq!(status, 201, "{charged}");
    }
    kasse.terminate();

    let stored = stored_text(&database, &data).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    for (number, cvc) in CARDS {
        for form in forms(number.as_bytes()) {
            assert!(
                !stored.contains(&form),
                "the database holds {number} as {form}"
            );
            assert!(!logged.contains(&form), "the log holds {number} as {form}");
        }
        for written in [
            format!("\"cvc\":\"{cvc}\""),
            format!("cvc={cvc}"),
            format!("cvc: {cvc}"),
            format!("cvc\":{cvc}"),
        ] {
            assert!(
                !stored.contains(&written),
                "the database holds a CVC: {written}"
            );
            assert!(!logged.contains(&written), "the log holds a CVC: {written}");
        }
    }
    // Not vacuous: the cards are in the vault, sealed, and the log saw the
    // payments (with masked cards).
    // (A SQLite page may be both in the file and in its write-ahead log.)
    assert!(
        stored.matches("vc1:").count() >= CARDS.len(),
        "a sealed number per card"
    );
    assert!(logged.contains("off-session charge"), "{logged}");
    assert!(logged.contains("Visa •••• 4242"), "{logged}");

    // Rotation: the new key first, the old one after it.
    let new_key = kasse_server::vault::Vault::generate_key();
    let rotate = std::process::Command::new(BINARY)
        .args(["--database", &database, "vault", "rotate"])
        .env("KASSE_SECRET", SECRET)
        .env("KASSE_VAULT_KEY", format!("{new_key},{old_key}"))
        .env_remove("KASSE_VAULT_KEY_FILE")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&rotate.stdout);
    assert!(
        rotate.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    assert!(said.contains("Re-wrapped 1 data key(s)"), "{said}");
    // The old key alone no longer opens the vault…
    let kasse = serve(&database, &log, ("KASSE_VAULT_KEY", &old_key)).await;
    let run = Run {
        base: kasse.base.clone(),
        ..run
    };
    let (status, refused) = run.charge(&customer, &saved[0]).await;
    assert_eq!(status, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "vault_unavailable");
    kasse.terminate();
    // …the new one alone charges every card saved before.
    let kasse = serve(&database, &log, ("KASSE_VAULT_KEY", &new_key)).await;
    let run = Run {
        base: kasse.base.clone(),
        ..run
    };
    for pm in &saved {
        let (status, charged) = run.charge(&customer, pm).await;
        assert_eq!(status, 201, "{charged}");
    }
    kasse.terminate();
    let again = std::process::Command::new(BINARY)
        .args(["--database", &database, "vault", "rotate"])
        .env("KASSE_SECRET", SECRET)
        .env("KASSE_VAULT_KEY", &new_key)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(
        said.contains("Re-wrapped 0 data key(s)") && said.contains("1 already were"),
        "{said}"
    );
}
