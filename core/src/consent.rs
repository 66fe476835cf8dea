//! What a customer agrees to when a card is saved: the words the page shows
//! beside "save this card", in each of its languages. The server records
//! exactly these words with the mandate, so the page and the record cannot
//! disagree.

use crate::api::FutureUsage;
use crate::locale::Locale;

/// Changes whenever any of the texts below changes; kept with each mandate.
pub const CONSENT_VERSION: &str = "2026-12-01";

/// The consent text for saving a card with `merchant`, for `usage`.
pub fn save_card_text(locale: Locale, merchant: &str, usage: FutureUsage) -> String {
    let template = match (locale, usage) {
        (Locale::En, FutureUsage::OffSession) => {
            "Save this card for future payments to {m}. You allow {m} to charge it for payments you have agreed with them, also when you are not present. You can ask {m} to remove it at any time."
        }
        (Locale::En, FutureUsage::OnSession) => {
            "Save this card for future payments to {m}. It is charged only when you pay, with its security code. You can ask {m} to remove it at any time."
        }
        (Locale::Bn, FutureUsage::OffSession) => {
            "ভবিষ্যতের পেমেন্টের জন্য এই কার্ডটি {m}-এর কাছে সংরক্ষণ করুন। আপনি {m}-কে তাদের সঙ্গে সম্মত পেমেন্টের জন্য, আপনার অনুপস্থিতিতেও, এই কার্ডে চার্জ করার অনুমতি দিচ্ছেন। আপনি যেকোনো সময় {m}-কে এটি সরিয়ে দিতে বলতে পারেন।"
        }
        (Locale::Bn, FutureUsage::OnSession) => {
            "ভবিষ্যতের পেমেন্টের জন্য এই কার্ডটি {m}-এর কাছে সংরক্ষণ করুন। শুধু আপনি নিরাপত্তা কোড দিয়ে পরিশোধ করলেই এতে চার্জ হবে। আপনি যেকোনো সময় {m}-কে এটি সরিয়ে দিতে বলতে পারেন।"
        }
        (Locale::Mn, FutureUsage::OffSession) => {
            "Энэ картыг {m}-д дараагийн төлбөрт зориулж хадгална. Та {m}-тэй тохирсон төлбөрөө, таныг байхгүй үед ч, энэ картаас татахыг зөвшөөрч байна. Та хүссэн үедээ {m}-ээс үүнийг устгахыг хүсэж болно."
        }
        (Locale::Mn, FutureUsage::OnSession) => {
            "Энэ картыг {m}-д дараагийн төлбөрт зориулж хадгална. Зөвхөн та аюулгүйн кодоо оруулж төлөхөд л татна. Та хүссэн үедээ {m}-ээс үүнийг устгахыг хүсэж болно."
        }
    };
    crate::locale::fill(template, "{m}", merchant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_names_the_merchant_and_says_something_different() {
        let mut seen = std::collections::HashSet::new();
        for &locale in Locale::ALL {
            for usage in [FutureUsage::OffSession, FutureUsage::OnSession] {
                let text = save_card_text(locale, "Rose & Co", usage);
                assert!(text.contains("Rose & Co"), "{text}");
                assert!(!text.contains("{m}"));
                assert!(seen.insert(text));
            }
        }
    }
}
