//! SSLCOMMERZ's notice of an outcome: the fields of the IPN and of the
//! customer's form-POST return (identical for one outcome), their
//! `verify_sign` and `verify_sign_sha2`, and the IPN a delivery sends for
//! an event (SSLCOMMERZ.md §6, §7).

use kasse_core::api::EventType;
use kasse_core::error::DeclineCode;
use kasse_core::{CardBrand, Currency, PaymentStatus, SessionStatus};

use super::credentials::{md5_hex, sha256_hex};
use crate::domain::DomainError;
use crate::domain::payments;
use crate::ids::new_id;
use crate::state::AppState;
use crate::store::{CompatSession, Event, Payment, PaymentRefs, Session, StoreError, Surface};

/// Dates are Asia/Dhaka local time (UTC+6, no daylight saving), as
/// SSLCOMMERZ writes them.
const DHAKA_OFFSET_SECONDS: i64 = 6 * 3600;

/// `YYYY-MM-DD HH:MM:SS` in Asia/Dhaka time, without a zone.
pub fn date(unix: i64) -> String {
    let local = unix + DHAKA_OFFSET_SECONDS;
    let (year, month, day) = kasse_core::time::civil_date(local);
    let seconds = local.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60
    )
}

/// An amount as SSLCOMMERZ writes it: at least two decimals (`"100.26"`).
pub fn decimal(amount: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    let scale = 10i64.pow(exponent);
    let (whole, fraction) = (amount / scale, amount % scale);
    match exponent {
        0 => format!("{whole}.00"),
        1 => format!("{whole}.{fraction}0"),
        e => format!("{whole}.{fraction:0width$}", width = e as usize),
    }
}

/// The brand as `card_brand` names it.
pub fn brand_name(brand: CardBrand) -> &'static str {
    match brand {
        CardBrand::Visa => "VISA",
        CardBrand::Mastercard => "MASTERCARD",
        CardBrand::Amex => "AMEX",
        CardBrand::Discover => "DISCOVER",
        CardBrand::Jcb => "JCB",
        CardBrand::Unionpay => "UNIONPAY",
        CardBrand::Diners => "DINERS",
        CardBrand::Maestro => "MAESTRO",
        CardBrand::Rupay => "RUPAY",
    }
}

/// The gateway (`gw`, `bank_gw`) SSLCOMMERZ would name for a brand.
pub fn gateway(brand: CardBrand) -> &'static str {
    match brand {
        CardBrand::Visa => "visacard",
        CardBrand::Mastercard => "mastercard",
        CardBrand::Amex => "amexcard",
        _ => "othercards",
    }
}

/// A decline as the issuer words it, in ASCII (the ASP.NET SDK hashes ASCII).
pub fn decline_text(code: DeclineCode) -> &'static str {
    match code {
        DeclineCode::CardDeclined => "Do not honor",
        DeclineCode::InsufficientFunds => "Insufficient funds",
        DeclineCode::ExpiredCard => "Expired card",
        DeclineCode::IncorrectCvc => "Incorrect CVC",
        DeclineCode::LostCard => "Lost card",
        DeclineCode::StolenCard => "Stolen card",
        DeclineCode::ProcessingError => "Processing error",
        DeclineCode::AuthenticationFailed => "Authentication failed",
        DeclineCode::AuthenticationRequired => "Authentication required",
    }
}

/// BIN, `X`s and the last four: `424242XXXXXX4242`.
pub fn masked_card(payment: &Payment) -> String {
    format!("{}XXXXXX{}", payment.card_bin, payment.card_last4)
}

/// `"<BRAND>-<issuer or acquirer>"`: Kasse's sandbox is the acquirer.
pub fn card_type(payment: &Payment) -> String {
    format!("{}-Kasse", brand_name(payment.card_brand))
}

/// The four `value_*` fields, echoed exactly as the merchant sent them.
pub const VALUE_FIELDS: [&str; 4] = ["value_a", "value_b", "value_c", "value_d"];

/// What became of a session, as a notice tells it.
#[derive(Debug, Clone)]
pub enum Outcome {
    Valid {
        payment: Payment,
        refs: PaymentRefs,
        risky: bool,
    },
    Failed(Payment),
    Cancelled,
    Expired,
    Unattempted,
}

impl Outcome {
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Valid { .. } => "VALID",
            Outcome::Failed(_) => "FAILED",
            Outcome::Cancelled => "CANCELLED",
            Outcome::Expired => "EXPIRED",
            Outcome::Unattempted => "UNATTEMPTED",
        }
    }
}

/// The fields of a notice, in the sets of SSLCOMMERZ.md §6.1, unsigned.
pub fn fields(
    store_id: &str,
    session: &Session,
    compat: &CompatSession,
    outcome: &Outcome,
) -> Vec<(String, String)> {
    let mut out: Vec<(&str, String)> = Vec::new();
    let (amount, currency) = (session.amount, session.currency);
    let when = match outcome {
        Outcome::Valid { payment, .. } | Outcome::Failed(payment) => payment.created,
        _ => session.created,
    };
    out.push(("status", outcome.status().to_string()));
    out.push((
        "tran_id",
        session.order_reference.clone().unwrap_or_default(),
    ));
    out.push(("amount", decimal(amount, currency)));
    out.push(("currency", currency.code().to_string()));
    out.push(("tran_date", date(when)));
    out.push(("store_id", store_id.to_string()));
    out.push(("currency_type", currency.code().to_string()));
    out.push(("currency_amount", decimal(amount, currency)));
    out.push(("currency_rate", "1.0000".to_string()));
    out.push(("base_fair", "0.00".to_string()));
    for name in VALUE_FIELDS {
        out.push((name, compat.fields.get(name).cloned().unwrap_or_default()));
    }
    let card = |out: &mut Vec<(&str, String)>, payment: &Payment| {
        out.push(("card_type", card_type(payment)));
        out.push(("card_no", masked_card(payment)));
        out.push(("card_issuer", String::new()));
        out.push(("card_brand", brand_name(payment.card_brand).to_string()));
        out.push(("card_issuer_country", String::new()));
        out.push(("card_issuer_country_code", String::new()));
        out.push(("card_sub_brand", String::new()));
    };
    match outcome {
        Outcome::Valid {
            payment,
            refs,
            risky,
        } => {
            out.push(("bank_tran_id", payment.id.clone()));
            out.push(("val_id", refs.val_id.clone()));
            out.push(("store_amount", decimal(payment.amount, currency)));
            card(&mut out, payment);
            out.push(("card_category", String::new()));
            out.push(("card_ref_id", payment.card_fingerprint.clone()));
            out.push(("error", String::new()));
            let (level, title) = if *risky {
                ("1", "Risky")
            } else {
                ("0", "Safe")
            };
            out.push(("risk_level", level.to_string()));
            out.push(("risk_title", title.to_string()));
        }
        Outcome::Failed(payment) => {
            out.push(("bank_tran_id", payment.id.clone()));
            card(&mut out, payment);
            out.push((
                "error",
                payment
                    .decline_code
                    .map_or("Declined", decline_text)
                    .to_string(),
            ));
        }
        Outcome::Cancelled | Outcome::Expired => {
            out.push(("bank_tran_id", String::new()));
            let error = if matches!(outcome, Outcome::Cancelled) {
                "Cancelled by User"
            } else {
                "Transaction expired"
            };
            out.push(("error", error.to_string()));
        }
        Outcome::Unattempted => {
            for name in [
                "bank_tran_id",
                "val_id",
                "store_amount",
                "card_type",
                "card_no",
                "card_issuer",
                "card_brand",
                "card_issuer_country",
                "card_issuer_country_code",
                "card_sub_brand",
            ] {
                out.push((name, String::new()));
            }
            out.push((
                "error",
                "Customer did not choose to pay any channel".to_string(),
            ));
            out.push(("risk_level", "0".to_string()));
            out.push(("risk_title", "Safe".to_string()));
        }
    }
    out.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// The string SSLCOMMERZ hashes: the `keys` of `fields` plus
/// `store_passwd` (a digest of the password), sorted bytewise, joined as
/// raw `k=v` pairs with `&`.
pub fn signed_string(fields: &[(String, String)], keys: &[&str], password_digest: &str) -> String {
    let mut pairs: Vec<(&str, &str)> = keys
        .iter()
        .map(|key| {
            let value = fields
                .iter()
                .find(|(k, _)| k == key)
                .map_or("", |(_, v)| v.as_str());
            (*key, value)
        })
        .collect();
    pairs.push(("store_passwd", password_digest));
    pairs.sort_unstable();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Adds `verify_sign`, `verify_sign_sha2` and `verify_key` (every field
/// sent, sorted) to `fields`.
pub fn sign(
    mut fields: Vec<(String, String)>,
    password_md5: &str,
    password_sha256: &str,
) -> Vec<(String, String)> {
    let mut keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    let md5 = md5_hex(&signed_string(&fields, &keys, password_md5));
    let sha2 = sha256_hex(&signed_string(&fields, &keys, password_sha256));
    let verify_key = keys.join(",");
    fields.push(("verify_sign".into(), md5));
    fields.push(("verify_sign_sha2".into(), sha2));
    fields.push(("verify_key".into(), verify_key));
    fields
}

/// A successful payment's `val_id` and `transaction_id`, made the first
/// time they are asked for.
pub async fn refs(ctx: &AppState, payment: &Payment) -> Result<PaymentRefs, StoreError> {
    let short_ref: String = new_id("x")[2..]
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .take(10)
        .collect();
    ctx.store
        .payment_refs(&PaymentRefs {
            payment_id: payment.id.clone(),
            merchant_id: payment.merchant_id.clone(),
            val_id: new_id("x")[2..].to_string(),
            short_ref,
        })
        .await
}

/// The outcome of a VALID payment, its names made if need be.
pub async fn valid(ctx: &AppState, payment: Payment) -> Result<Outcome, DomainError> {
    let refs = refs(ctx, &payment).await?;
    let risky = payments::risky(ctx, &payment).await?;
    Ok(Outcome::Valid {
        payment,
        refs,
        risky,
    })
}

/// How an expired session ended: cancelled by its customer, never tried,
/// abandoned during 3-D Secure, or declined.
pub async fn ended(
    ctx: &AppState,
    session: &Session,
    compat: &CompatSession,
) -> Result<Outcome, DomainError> {
    if compat.canceled.is_some() {
        return Ok(Outcome::Cancelled);
    }
    let attempts = ctx.store.session_payments(&session.id).await?;
    Ok(match attempts.first() {
        None => Outcome::Unattempted,
        Some(latest) if latest.status == PaymentStatus::Failed => Outcome::Failed(latest.clone()),
        Some(_) => Outcome::Expired,
    })
}

/// The signed notice for `outcome`, or `None` when the session's store
/// credential is gone.
pub async fn notice(
    ctx: &AppState,
    session: &Session,
    compat: &CompatSession,
    outcome: &Outcome,
) -> Result<Option<Vec<(String, String)>>, DomainError> {
    let Some(store_id) = &compat.store_id else {
        return Ok(None);
    };
    let Some(credential) = ctx.store.compat_credential(store_id).await? else {
        return Ok(None);
    };
    let fields = fields(store_id, session, compat, outcome);
    Ok(Some(sign(
        fields,
        &credential.password_md5,
        &credential.password_sha256,
    )))
}

/// The IPN body for an event bound for an SSLCOMMERZ session's IPN URL;
/// `None` when the event is not about such a session (then it goes as a
/// Standard Webhook). Made from what does not change, so that every retry
/// sends the same bytes.
pub async fn for_event(ctx: &AppState, event: &Event) -> Result<Option<String>, DomainError> {
    let object = &event.data["object"];
    let session_id = match event.kind {
        EventType::CheckoutSessionExpired | EventType::CheckoutSessionCompleted => {
            object["id"].as_str()
        }
        _ => object["checkout_session"].as_str(),
    };
    let Some(session_id) = session_id else {
        return Ok(None);
    };
    let Some(session) = ctx.store.session(&event.merchant_id, session_id).await? else {
        return Ok(None);
    };
    if session.surface != Surface::Sslcommerz {
        return Ok(None);
    }
    let compat = ctx.store.compat_session(session_id).await?.ok_or_else(|| {
        StoreError::Corrupt(format!("session {session_id} has no SSLCOMMERZ record"))
    })?;
    let payment = match object["id"].as_str() {
        Some(id) if event.kind != EventType::CheckoutSessionExpired => {
            ctx.store.payment(&event.merchant_id, id).await?
        }
        _ => None,
    };
    let outcome = match (event.kind, payment) {
        (EventType::PaymentSucceeded, Some(payment)) => valid(ctx, payment).await?,
        (EventType::PaymentFailed, Some(payment)) => Outcome::Failed(payment),
        (EventType::CheckoutSessionExpired, _) => {
            let expired = Session {
                status: SessionStatus::Expired,
                ..session.clone()
            };
            ended(ctx, &expired, &compat).await?
        }
        (kind, _) => {
            return Err(StoreError::Corrupt(format!(
                "an IPN was queued for {kind}, which has none"
            ))
            .into());
        }
    };
    let Some(fields) = notice(ctx, &session, &compat, &outcome).await? else {
        return Err(DomainError::Conflict {
            code: kasse_core::error::ErrorCode::ResourceMissing,
            message: "the SSLCOMMERZ store that made this session is gone".into(),
        });
    };
    Ok(Some(
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish(),
    ))
}

/// What a return link (`outcome`, and the payment it names) tells, if it
/// matches what happened: the same outcome the IPN told.
pub async fn for_return(
    ctx: &AppState,
    session: &Session,
    compat: &CompatSession,
    outcome: &str,
    payment: Option<Payment>,
) -> Result<Option<Outcome>, DomainError> {
    Ok(match (outcome, payment) {
        ("success", Some(p)) if p.status.completes_session() => Some(valid(ctx, p).await?),
        ("fail", Some(p)) if p.status == PaymentStatus::Failed => Some(Outcome::Failed(p)),
        ("cancel", _) => Some(ended(ctx, session, compat).await?),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SSLCOMMERZ.md §6.2: the published example, which the Python SDK's
    /// `hash_validate_ipn` accepts.
    #[test]
    fn the_published_ipn_signs_to_the_published_values() {
        let fields: Vec<(String, String)> = [
            ("amount", "10.00"),
            ("bank_tran_id", "200105225825DBgSoRGLvczhFjj"),
            ("base_fair", "0.00"),
            ("card_brand", "VISA"),
            ("card_issuer", "TRUST BANK, LTD."),
            ("card_issuer_country", "Bangladesh"),
            ("card_issuer_country_code", "BD"),
            ("card_no", "418117XXXXXX6675"),
            ("card_type", "VISA-Dutch Bangla"),
            ("currency", "BDT"),
            ("currency_amount", "10.00"),
            ("currency_rate", "1.0000"),
            ("currency_type", "BDT"),
            ("risk_level", "0"),
            ("risk_title", "Safe"),
            ("status", "VALID"),
            ("store_amount", "9.75"),
            ("store_id", "test_testemi"),
            ("tran_date", "2020-01-05 22:58:21"),
            ("tran_id", "5E121A0D01F92"),
            ("val_id", "200105225826116qFnATY9sHIwo"),
            ("value_a", ""),
            ("value_b", ""),
            ("value_c", ""),
            ("value_d", ""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let password = "test_testemi@ssl";
        let signed = sign(fields, &md5_hex(password), &sha256_hex(password));
        let get = |name: &str| {
            signed
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap()
        };
        assert_eq!(get("verify_sign"), "d42fab70ae0bcbda5280e7baffef60b0");
        assert_eq!(
            get("verify_sign_sha2"),
            "02c0417ff467c109006382d56eedccecd68382e47245266e7b47abbb3d43976e"
        );
        assert_eq!(
            get("verify_key"),
            "amount,bank_tran_id,base_fair,card_brand,card_issuer,card_issuer_country,card_issuer_country_code,card_no,card_type,currency,currency_amount,currency_rate,currency_type,risk_level,risk_title,status,store_amount,store_id,tran_date,tran_id,val_id,value_a,value_b,value_c,value_d"
        );
    }

    #[test]
    fn a_tampered_field_changes_the_signature() {
        let fields = vec![
            ("amount".to_string(), "10.00".to_string()),
            ("status".to_string(), "VALID".to_string()),
        ];
        let tampered = vec![
            ("amount".to_string(), "1000.00".to_string()),
            ("status".to_string(), "VALID".to_string()),
        ];
        let sign_of = |f| sign(f, "a", "b")[2].1.clone();
        assert_ne!(sign_of(fields), sign_of(tampered));
    }

    #[test]
    fn dates_are_dhaka_time_and_amounts_have_two_decimals() {
        // 2020-01-05 16:58:21 UTC.
        assert_eq!(date(1_578_243_501), "2020-01-05 22:58:21");
        // Across midnight in Dhaka while still the day before in UTC.
        assert_eq!(date(1_578_247_200), "2020-01-06 00:00:00");
        let bdt = Currency::parse("BDT").unwrap();
        assert_eq!(decimal(10_026, bdt), "100.26");
        assert_eq!(decimal(10_000, bdt), "100.00");
        assert_eq!(decimal(5, bdt), "0.05");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(decimal(500, jpy), "500.00");
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(decimal(1_234, kwd), "1.234");
    }
}
