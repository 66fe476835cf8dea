//! Every string the payment page shows, in English, Bangla and Mongolian.
//!
//! The page picks its language once (the session's `locale`, else the
//! browser's languages, else English: [`Locale::negotiate`]) and hands it to
//! its components as context. A `{}` in a string is filled in by [`fill`].

use kasse_core::Locale;
use kasse_core::card::{CardNumberError, CvcError, ExpiryError};
use kasse_core::error::{DeclineCode, ErrorCode};
use kasse_core::money::exponent_of;
use leptos::prelude::*;

/// The page's strings in one language.
#[derive(Debug, PartialEq, Eq, serde::Serialize)]
pub struct Text {
    pub loading: &'static str,
    pub unavailable: &'static str,
    pub link_incomplete: &'static str,
    pub foreign_site: &'static str,
    pub not_found: &'static str,
    pub unreachable: &'static str,
    pub retry: &'static str,
    pub order: &'static str,
    pub card_number: &'static str,
    pub expiry: &'static str,
    pub cvc: &'static str,
    pub name: &'static str,
    pub pay: &'static str,
    pub processing: &'static str,
    pub saved_cards: &'static str,
    pub another_card: &'static str,
    pub update_title: &'static str,
    pub update_replaces: &'static str,
    pub update_save: &'static str,
    pub update_done: &'static str,
    pub update_used: &'static str,
    pub update_saved_already: &'static str,
    pub cancel: &'static str,
    pub return_to: &'static str,
    pub authenticating: &'static str,
    pub paid: &'static str,
    pub paid_to: &'static str,
    pub amount: &'static str,
    pub reference: &'static str,
    pub taking_back: &'static str,
    pub already_paid: &'static str,
    pub expired_title: &'static str,
    pub expired: &'static str,
    pub cancelled: &'static str,
    pub cancelled_detail: &'static str,
    pub footer: &'static str,
    pub too_many_attempts: &'static str,
    pub in_progress: &'static str,
    // Card fields.
    pub number_empty: &'static str,
    pub number_not_digits: &'static str,
    pub number_incomplete: &'static str,
    pub number_invalid: &'static str,
    pub number_brand: &'static str,
    pub expiry_malformed: &'static str,
    pub expiry_month: &'static str,
    pub expiry_past: &'static str,
    pub expiry_far: &'static str,
    pub cvc_length: &'static str,
    pub name_long: &'static str,
    // Declines.
    pub declined: &'static str,
    pub insufficient_funds: &'static str,
    pub expired_card: &'static str,
    pub incorrect_cvc: &'static str,
    pub processing_error: &'static str,
    pub authentication_failed: &'static str,
    pub authentication_required: &'static str,
}

pub const EN: Text = Text {
    loading: "Loading payment…",
    unavailable: "Payment unavailable",
    link_incomplete: "This payment link is incomplete. Open the link the shop gave you again.",
    foreign_site: "This payment cannot be shown on this site.",
    not_found: "We could not find this payment. Return to the shop and start again.",
    unreachable: "We could not reach the payment server. Check your connection and try again.",
    retry: "Try again",
    order: "Order {}",
    card_number: "Card number",
    expiry: "Expiry (MM / YY)",
    cvc: "Security code",
    name: "Name on card",
    pay: "Pay {}",
    processing: "Processing…",
    saved_cards: "Your saved cards",
    another_card: "Use another card",
    update_title: "Update your card",
    update_replaces: "{} asks you to replace this card:",
    update_save: "Save new card",
    update_done: "Your card is updated",
    update_used: "This link can no longer be used. Ask {} for a new one.",
    update_saved_already: "This card is saved already; use another card.",
    cancel: "Cancel and return to {}",
    return_to: "Return to {}",
    authenticating: "Taking you to your bank to confirm the payment…",
    paid: "Payment successful",
    paid_to: "Paid to",
    amount: "Amount",
    reference: "Payment reference",
    taking_back: "Taking you back to {}…",
    already_paid: "This payment is already complete",
    expired_title: "Payment link expired",
    expired: "This payment link has expired. Return to the shop to start again.",
    cancelled: "Payment cancelled",
    cancelled_detail: "No money was taken. Taking you back to {}…",
    footer: "Secured by Kasse · sandbox",
    too_many_attempts: "Too many attempts to pay. Return to the shop and start again.",
    in_progress: "This payment is already being processed. Wait a moment, then reload the page.",
    number_empty: "Enter a card number.",
    number_not_digits: "A card number has only digits.",
    number_incomplete: "The card number is incomplete.",
    number_invalid: "The card number is not valid.",
    number_brand: "This card's network is not accepted.",
    expiry_malformed: "Enter the expiry date as MM / YY.",
    expiry_month: "The expiry month must be 01 to 12.",
    expiry_past: "The card has expired.",
    expiry_far: "The expiry year is too far in the future.",
    cvc_length: "The security code has {} digits.",
    name_long: "The name must be at most 100 characters.",
    declined: "Your card was declined. Try another card or contact your bank.",
    insufficient_funds: "Your card has insufficient funds. Try another card.",
    expired_card: "Your card has expired. Try another card.",
    incorrect_cvc: "The security code is incorrect. Check it and try again.",
    processing_error: "We could not process your card just now. Please try again.",
    authentication_failed: "Your bank could not confirm it was you. Try again or use another card.",
    authentication_required: "Your bank asks you to confirm this payment. Pay again to confirm it.",
};

pub const BN: Text = Text {
    loading: "পেমেন্ট লোড হচ্ছে…",
    unavailable: "পেমেন্ট পাওয়া যাচ্ছে না",
    link_incomplete: "এই পেমেন্ট লিংকটি অসম্পূর্ণ। দোকান থেকে পাওয়া লিংকটি আবার খুলুন।",
    foreign_site: "এই পেমেন্টটি এই সাইটে দেখানো যাবে না।",
    not_found: "আমরা এই পেমেন্টটি খুঁজে পাইনি। দোকানে ফিরে গিয়ে আবার শুরু করুন।",
    unreachable: "পেমেন্ট সার্ভারের সাথে যোগাযোগ করা যায়নি। আপনার সংযোগ পরীক্ষা করে আবার চেষ্টা করুন।",
    retry: "আবার চেষ্টা করুন",
    order: "অর্ডার {}",
    card_number: "কার্ড নম্বর",
    expiry: "মেয়াদ (MM / YY)",
    cvc: "নিরাপত্তা কোড",
    name: "কার্ডে লেখা নাম",
    pay: "{} পরিশোধ করুন",
    processing: "প্রক্রিয়া চলছে…",
    saved_cards: "আপনার সংরক্ষিত কার্ড",
    another_card: "অন্য কার্ড ব্যবহার করুন",
    update_title: "আপনার কার্ড হালনাগাদ করুন",
    update_replaces: "{} এই কার্ডটির বদলে নতুন কার্ড চেয়েছে:",
    update_save: "নতুন কার্ড সংরক্ষণ করুন",
    update_done: "আপনার কার্ড হালনাগাদ হয়েছে",
    update_used: "এই লিংকটি আর ব্যবহার করা যাবে না। {}-এর কাছে নতুন লিংক চান।",
    update_saved_already: "এই কার্ডটি আগেই সংরক্ষিত; অন্য কার্ড ব্যবহার করুন।",
    cancel: "বাতিল করে {}-এ ফিরে যান",
    return_to: "{}-এ ফিরে যান",
    authenticating: "পেমেন্ট নিশ্চিত করতে আপনাকে আপনার ব্যাংকে নিয়ে যাওয়া হচ্ছে…",
    paid: "পেমেন্ট সফল হয়েছে",
    paid_to: "প্রাপক",
    amount: "পরিমাণ",
    reference: "পেমেন্ট রেফারেন্স",
    taking_back: "আপনাকে {}-এ ফিরিয়ে নেওয়া হচ্ছে…",
    already_paid: "এই পেমেন্টটি আগেই সম্পন্ন হয়েছে",
    expired_title: "পেমেন্ট লিংকের মেয়াদ শেষ",
    expired: "এই পেমেন্ট লিংকের মেয়াদ শেষ হয়ে গেছে। আবার শুরু করতে দোকানে ফিরে যান।",
    cancelled: "পেমেন্ট বাতিল করা হয়েছে",
    cancelled_detail: "কোনো টাকা কাটা হয়নি। আপনাকে {}-এ ফিরিয়ে নেওয়া হচ্ছে…",
    footer: "Kasse দ্বারা সুরক্ষিত · স্যান্ডবক্স",
    too_many_attempts: "পেমেন্টের চেষ্টা অনেকবার হয়েছে। দোকানে ফিরে গিয়ে আবার শুরু করুন।",
    in_progress: "এই পেমেন্টটি ইতিমধ্যে প্রক্রিয়াধীন। একটু অপেক্ষা করে পাতাটি আবার লোড করুন।",
    number_empty: "কার্ড নম্বর লিখুন।",
    number_not_digits: "কার্ড নম্বরে শুধু অঙ্ক থাকে।",
    number_incomplete: "কার্ড নম্বরটি অসম্পূর্ণ।",
    number_invalid: "কার্ড নম্বরটি সঠিক নয়।",
    number_brand: "এই কার্ডের নেটওয়ার্ক গ্রহণ করা হয় না।",
    expiry_malformed: "মেয়াদ MM / YY আকারে লিখুন।",
    expiry_month: "মেয়াদের মাস ০১ থেকে ১২-এর মধ্যে হতে হবে।",
    expiry_past: "কার্ডটির মেয়াদ শেষ হয়ে গেছে।",
    expiry_far: "মেয়াদের বছরটি অনেক দূরের।",
    cvc_length: "নিরাপত্তা কোডে {}টি অঙ্ক থাকে।",
    name_long: "নাম সর্বোচ্চ ১০০ অক্ষরের হতে পারে।",
    declined: "আপনার কার্ডটি প্রত্যাখ্যাত হয়েছে। অন্য কার্ড ব্যবহার করুন বা আপনার ব্যাংকের সাথে যোগাযোগ করুন।",
    insufficient_funds: "আপনার কার্ডে পর্যাপ্ত টাকা নেই। অন্য কার্ড ব্যবহার করুন।",
    expired_card: "আপনার কার্ডের মেয়াদ শেষ হয়ে গেছে। অন্য কার্ড ব্যবহার করুন।",
    incorrect_cvc: "নিরাপত্তা কোডটি ভুল। যাচাই করে আবার চেষ্টা করুন।",
    processing_error: "এই মুহূর্তে আপনার কার্ডটি প্রক্রিয়া করা যায়নি। অনুগ্রহ করে আবার চেষ্টা করুন।",
    authentication_failed: "আপনার ব্যাংক আপনার পরিচয় নিশ্চিত করতে পারেনি। আবার চেষ্টা করুন বা অন্য কার্ড ব্যবহার করুন।",
    authentication_required: "আপনার ব্যাংক এই পেমেন্টটি নিশ্চিত করতে বলছে। নিশ্চিত করতে আবার পরিশোধ করুন।",
};

pub const MN: Text = Text {
    loading: "Төлбөрийг ачаалж байна…",
    unavailable: "Төлбөр хийх боломжгүй",
    link_incomplete: "Энэ төлбөрийн холбоос дутуу байна. Дэлгүүрээс өгсөн холбоосыг дахин нээнэ үү.",
    foreign_site: "Энэ төлбөрийг энэ сайт дээр харуулах боломжгүй.",
    not_found: "Энэ төлбөрийг олсонгүй. Дэлгүүр рүү буцаж дахин эхлүүлнэ үү.",
    unreachable: "Төлбөрийн сервертэй холбогдож чадсангүй. Холболтоо шалгаад дахин оролдоно уу.",
    retry: "Дахин оролдох",
    order: "Захиалга {}",
    card_number: "Картын дугаар",
    expiry: "Дуусах хугацаа (MM / YY)",
    cvc: "Аюулгүйн код",
    name: "Карт эзэмшигчийн нэр",
    pay: "{} төлөх",
    processing: "Боловсруулж байна…",
    saved_cards: "Таны хадгалсан картууд",
    another_card: "Өөр карт ашиглах",
    update_title: "Картаа шинэчлэх",
    update_replaces: "{} энэ картыг шинэ картаар солихыг хүсэж байна:",
    update_save: "Шинэ картыг хадгалах",
    update_done: "Таны карт шинэчлэгдлээ",
    update_used: "Энэ холбоосыг ашиглах боломжгүй. {}-ээс шинэ холбоос авна уу.",
    update_saved_already: "Энэ карт аль хэдийн хадгалагдсан; өөр карт ашиглана уу.",
    cancel: "Цуцлаад {} руу буцах",
    return_to: "{} руу буцах",
    authenticating: "Төлбөрийг баталгаажуулахаар таныг банк руу шилжүүлж байна…",
    paid: "Төлбөр амжилттай",
    paid_to: "Хүлээн авагч",
    amount: "Дүн",
    reference: "Төлбөрийн дугаар",
    taking_back: "Таныг {} руу буцаан шилжүүлж байна…",
    already_paid: "Энэ төлбөр аль хэдийн хийгдсэн байна",
    expired_title: "Төлбөрийн холбоосын хугацаа дууссан",
    expired: "Энэ төлбөрийн холбоосын хугацаа дууссан. Дахин эхлүүлэхийн тулд дэлгүүр рүү буцна уу.",
    cancelled: "Төлбөр цуцлагдсан",
    cancelled_detail: "Мөнгө хасагдаагүй. Таныг {} руу буцаан шилжүүлж байна…",
    footer: "Kasse хамгаалсан · туршилтын орчин",
    too_many_attempts: "Төлөх оролдлого хэт олон боллоо. Дэлгүүр рүү буцаж дахин эхлүүлнэ үү.",
    in_progress: "Энэ төлбөрийг боловсруулж байна. Түр хүлээгээд хуудсаа дахин ачаална уу.",
    number_empty: "Картын дугаараа оруулна уу.",
    number_not_digits: "Картын дугаар зөвхөн цифрээс бүрдэнэ.",
    number_incomplete: "Картын дугаар дутуу байна.",
    number_invalid: "Картын дугаар буруу байна.",
    number_brand: "Энэ картын сүлжээг хүлээн авдаггүй.",
    expiry_malformed: "Дуусах хугацааг MM / YY хэлбэрээр оруулна уу.",
    expiry_month: "Сар 01-ээс 12 хооронд байх ёстой.",
    expiry_past: "Картын хугацаа дууссан байна.",
    expiry_far: "Дуусах он хэт хол байна.",
    cvc_length: "Аюулгүйн код {} оронтой.",
    name_long: "Нэр 100-аас ихгүй тэмдэгттэй байх ёстой.",
    declined: "Таны картаас татгалзлаа. Өөр карт ашиглах эсвэл банктайгаа холбогдоно уу.",
    insufficient_funds: "Таны картын үлдэгдэл хүрэлцэхгүй байна. Өөр карт ашиглана уу.",
    expired_card: "Таны картын хугацаа дууссан байна. Өөр карт ашиглана уу.",
    incorrect_cvc: "Аюулгүйн код буруу байна. Шалгаад дахин оролдоно уу.",
    processing_error: "Таны картыг одоогоор боловсруулж чадсангүй. Дахин оролдоно уу.",
    authentication_failed: "Банк таныг баталгаажуулж чадсангүй. Дахин оролдох эсвэл өөр карт ашиглана уу.",
    authentication_required: "Банк энэ төлбөрийг баталгаажуулахыг хүсэж байна. Баталгаажуулахын тулд дахин төлнө үү.",
};

/// The strings of a language.
pub fn text(locale: Locale) -> &'static Text {
    match locale {
        Locale::En => &EN,
        Locale::Bn => &BN,
        Locale::Mn => &MN,
    }
}

/// Puts `value` where the string has `{}`.
pub fn fill(template: &str, value: &str) -> String {
    kasse_core::locale::fill(template, "{}", value)
}

/// An amount as the language writes it. The page carries no ISO 4217
/// table: the currency is one Kasse accepted, and its minor-unit digits come
/// from [`exponent_of`] (checked against the table in kasse-core's tests).
pub fn amount(locale: Locale, minor: i64, currency: &str) -> String {
    let code = currency.trim().to_ascii_uppercase();
    locale.format_minor(minor, &code, exponent_of(&code))
}

impl Text {
    pub fn decline(&self, code: DeclineCode) -> &'static str {
        match code {
            DeclineCode::CardDeclined | DeclineCode::LostCard | DeclineCode::StolenCard => {
                self.declined
            }
            DeclineCode::InsufficientFunds => self.insufficient_funds,
            DeclineCode::ExpiredCard => self.expired_card,
            DeclineCode::IncorrectCvc => self.incorrect_cvc,
            DeclineCode::ProcessingError => self.processing_error,
            DeclineCode::AuthenticationFailed => self.authentication_failed,
            DeclineCode::AuthenticationRequired => self.authentication_required,
        }
    }

    pub fn number_error(&self, e: &CardNumberError) -> &'static str {
        match e {
            CardNumberError::Empty => self.number_empty,
            CardNumberError::NotDigits => self.number_not_digits,
            CardNumberError::WrongLength => self.number_incomplete,
            CardNumberError::FailsLuhn => self.number_invalid,
            CardNumberError::UnknownBrand => self.number_brand,
        }
    }

    pub fn expiry_error(&self, e: &ExpiryError) -> &'static str {
        match e {
            ExpiryError::Malformed => self.expiry_malformed,
            ExpiryError::BadMonth => self.expiry_month,
            ExpiryError::Expired => self.expiry_past,
            ExpiryError::TooFar => self.expiry_far,
        }
    }

    /// A refusal of the page API, by its stable code; `None` for a code
    /// the page has no words of its own for (the server's English is shown).
    pub fn api_error(&self, code: ErrorCode) -> Option<&'static str> {
        Some(match code {
            ErrorCode::TooManyAttempts | ErrorCode::RateLimited | ErrorCode::TooManyDeclines => {
                self.too_many_attempts
            }
            ErrorCode::PaymentInProgress => self.in_progress,
            ErrorCode::CheckoutSessionExpired => self.expired,
            ErrorCode::CheckoutSessionComplete | ErrorCode::CheckoutSessionNotOpen => {
                self.already_paid
            }
            ErrorCode::ResourceMissing => self.not_found,
            _ => return None,
        })
    }
}

/// The page's language, from context; English when none was provided.
pub fn use_locale() -> Locale {
    use_context::<Locale>().unwrap_or_default()
}

/// The browser's languages, most preferred first.
pub fn browser_languages() -> Vec<String> {
    let navigator = window().navigator();
    let mut tags: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    if tags.is_empty() {
        tags.extend(navigator.language());
    }
    tags
}

/// Marks `<html lang>` so that screen readers and fonts use the language.
pub fn set_document_language(locale: Locale) {
    if let Some(root) = window().document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("lang", locale.tag());
    }
}

/// Writes a CVC error in the language, with its digit count.
pub fn cvc_error(locale: Locale, e: &CvcError) -> String {
    match e {
        CvcError::WrongLength(n) => fill(
            text(locale).cvc_length,
            &locale.write_digits(&kasse_core::locale::ascii_digits(*n as u64, 1)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(t: &Text) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(t).unwrap() {
            serde_json::Value::Object(map) => map,
            other => panic!("{other}"),
        }
    }

    #[test]
    fn every_translation_is_its_own_and_keeps_the_placeholders() {
        let english = strings(&EN);
        for (name, t) in [("bn", &BN), ("mn", &MN)] {
            let translated = strings(t);
            for (key, en) in &english {
                let en = en.as_str().unwrap();
                let ours = translated[key].as_str().unwrap();
                assert_eq!(
                    ours.matches("{}").count(),
                    en.matches("{}").count(),
                    "{name}.{key} keeps its {{}}: {ours}"
                );
                let latin = ours.chars().filter(char::is_ascii_alphabetic).count();
                let letters = ours.chars().filter(|c| c.is_alphabetic()).count();
                assert!(
                    latin * 2 < letters || key == "expiry_malformed" || key == "expiry",
                    "{name}.{key} reads as English: {ours}"
                );
            }
        }
    }

    #[test]
    fn fill_puts_the_value_in_place() {
        assert_eq!(fill(BN.pay, "৳১০০"), "৳১০০ পরিশোধ করুন");
        assert_eq!(fill(MN.cancel, "Shop"), "Цуцлаад Shop руу буцах");
        assert_eq!(fill(EN.retry, "x"), "Try again");
    }

    #[test]
    fn declines_and_api_refusals_have_words_in_every_language() {
        for t in [&EN, &BN, &MN] {
            for code in DeclineCode::ALL {
                assert!(!t.decline(code).is_empty());
            }
            assert_eq!(
                t.api_error(ErrorCode::CheckoutSessionExpired),
                Some(t.expired)
            );
            assert_eq!(t.api_error(ErrorCode::Unknown), None);
        }
        assert_ne!(
            BN.decline(DeclineCode::InsufficientFunds),
            EN.insufficient_funds
        );
    }
}
