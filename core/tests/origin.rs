use kasse_core::origin::{MerchantOrigin, OriginError, RedirectUrlError, redirect_url_on};

#[test]
fn origins_are_normalised_and_must_be_secure() {
    assert_eq!(
        MerchantOrigin::parse("https://Shop.Example")
            .unwrap()
            .as_str(),
        "https://shop.example"
    );
    assert_eq!(
        MerchantOrigin::parse("https://shop.example:443/")
            .unwrap()
            .as_str(),
        "https://shop.example"
    );
    assert_eq!(
        MerchantOrigin::parse("http://127.0.0.1:8080")
            .unwrap()
            .as_str(),
        "http://127.0.0.1:8080"
    );
    assert!(matches!(
        MerchantOrigin::parse("http://shop.example"),
        Err(OriginError::Insecure(_))
    ));
    assert!(matches!(
        MerchantOrigin::parse("https://shop.example/checkout"),
        Err(OriginError::NotAnOrigin(_))
    ));
    assert!(matches!(
        MerchantOrigin::parse("shop.example"),
        Err(OriginError::NotAUrl(_))
    ));
}

#[test]
fn redirects_must_stay_on_the_merchants_origins() {
    let origins = [MerchantOrigin::parse("https://shop.example").unwrap()];
    assert!(redirect_url_on("https://shop.example/thanks?o=1", &origins).is_ok());
    assert_eq!(
        redirect_url_on("https://evil.example/thanks", &origins),
        Err(RedirectUrlError::OffOrigin)
    );
    assert_eq!(
        redirect_url_on("https://shop.example.evil.example/", &origins),
        Err(RedirectUrlError::OffOrigin)
    );
    assert_eq!(
        redirect_url_on("https://shop.example:8443/", &origins),
        Err(RedirectUrlError::OffOrigin)
    );
    assert_eq!(
        redirect_url_on("http://shop.example/", &origins),
        Err(RedirectUrlError::Insecure)
    );
    assert_eq!(
        redirect_url_on("javascript:alert(1)", &origins),
        Err(RedirectUrlError::Insecure)
    );
    assert_eq!(
        redirect_url_on("/relative", &origins),
        Err(RedirectUrlError::NotAUrl)
    );
}
