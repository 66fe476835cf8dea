use hmac::{Hmac, Mac};
use kasse_core::redirect::{VerifyError, canonical_query, sign_url, verify_url};
use sha2::Sha256;
use url::Url;

const SECRET: &str = "rsec_test_example";

#[test]
fn canonical_form_sorts_and_escapes_per_rfc_3986() {
    let canonical = canonical_query([
        ("status", "succeeded"),
        ("order", "A 1/2~*"),
        ("signature", "ignored"),
        ("amount", "10"),
    ]);
    assert_eq!(canonical, "amount=10&order=A%201%2F2~%2A&status=succeeded");
}

#[test]
fn signed_url_verifies_and_matches_an_independent_hmac() {
    let base = Url::parse("https://shop.example/done?order=42").unwrap();
    let url = sign_url(
        &base,
        &[
            ("session_id", "cs_1"),
            ("payment_id", "pay_1"),
            ("status", "succeeded"),
        ],
        SECRET,
    );
    assert_eq!(verify_url(&url, SECRET), Ok(()));

    // What a merchant would write by hand, with no Kasse code.
    let signature = url
        .query_pairs()
        .find(|(k, _)| k == "signature")
        .unwrap()
        .1
        .into_owned();
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"order=42&payment_id=pay_1&session_id=cs_1&status=succeeded");
    assert_eq!(signature, hex::encode(mac.finalize().into_bytes()));
}

#[test]
fn tampering_is_detected() {
    let base = Url::parse("https://shop.example/done").unwrap();
    let url = sign_url(&base, &[("status", "failed")], SECRET);
    let forged = Url::parse(&url.as_str().replace("failed", "succeeded")).unwrap();
    assert_eq!(verify_url(&forged, SECRET), Err(VerifyError::Mismatch));
    assert_eq!(
        verify_url(&url, "another secret"),
        Err(VerifyError::Mismatch)
    );
    assert_eq!(verify_url(&base, SECRET), Err(VerifyError::Missing));
    let mut extra = url.clone();
    extra.query_pairs_mut().append_pair("status", "succeeded");
    assert_eq!(verify_url(&extra, SECRET), Err(VerifyError::Mismatch));
}
