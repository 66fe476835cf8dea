//! The console's states and what a line typed at each does, as pure
//! functions: what the prompt asks, the card questions one answer at a
//! time, the y/N question before a change, and the queries behind `ls` and
//! `find`. `app` carries the results out on the page and over the API.

use kasse_core::PaymentStatus;
use kasse_core::api::{Payment, StaffSession};
use kasse_core::{CardNumber, Currency, Cvc, Expiry, Money, Sensitive};

use crate::format;

/// A keyed payment being taken: what was asked so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub money: Money,
    pub reference: Option<String>,
    pub manual: bool,
    pub number: Option<CardNumber>,
    pub expiry: Option<Expiry>,
    pub cvc: Option<Sensitive<String>>,
}

impl Draft {
    /// A keyed payment about to ask for its card.
    pub fn new(money: Money, reference: Option<String>, manual: bool) -> Self {
        Self {
            money,
            reference,
            manual,
            number: None,
            expiry: None,
            cvc: None,
        }
    }
}

/// A change that waits for y/N.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending {
    Capture {
        payment: String,
        amount: Option<i64>,
    },
    Void {
        payment: String,
    },
    Refund {
        payment: String,
        amount: Option<i64>,
        reason: Option<String>,
    },
    /// A saved card charged with its customer absent.
    ChargeSaved {
        money: Money,
        customer: String,
        card: String,
        reference: Option<String>,
    },
    CancelSubscription {
        subscription: String,
    },
    CancelLink {
        link: String,
    },
    ApprovePayout {
        payout: String,
    },
    CancelPayout {
        payout: String,
    },
}

/// What the prompt is asking for.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Waiting for `/terminal/me`.
    Starting,
    Email,
    Password {
        email: String,
    },
    Command,
    Card(Draft),
    Confirm {
        question: String,
        pending: Pending,
    },
    /// A command is running.
    Busy,
}

impl Mode {
    pub fn prompt(&self, session: Option<&StaffSession>) -> String {
        match self {
            Mode::Starting | Mode::Busy => String::new(),
            Mode::Email => "email: ".into(),
            Mode::Password { .. } => "password: ".into(),
            Mode::Command => match session {
                Some(s) => format!(
                    "{}@{} $ ",
                    s.email.split('@').next().unwrap_or(""),
                    s.merchant_name
                ),
                None => "$ ".into(),
            },
            Mode::Card(d) if d.number.is_none() => "card number: ".into(),
            Mode::Card(d) if d.expiry.is_none() => "expiry (MM/YY): ".into(),
            Mode::Card(d) if d.cvc.is_none() => "cvc: ".into(),
            Mode::Card(_) => "name on card (Enter to skip): ".into(),
            Mode::Confirm { question, .. } => format!("{question} [y/N] "),
        }
    }

    /// Whether what is typed is a secret: shown as dots, never kept.
    pub fn secret(&self) -> bool {
        match self {
            Mode::Password { .. } => true,
            Mode::Card(d) => d.number.is_none() || (d.expiry.is_some() && d.cvc.is_none()),
            _ => false,
        }
    }
}

/// What one answer to the card questions does: the line to echo (never the
/// number or CVC in clear), an error if the answer was wrong (the same
/// question is asked again), and what comes next.
#[derive(Debug, Clone, PartialEq)]
pub struct CardStep {
    pub echo: String,
    pub error: Option<String>,
    pub next: CardNext,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CardNext {
    /// Ask the next (or the same) question.
    Ask(Draft),
    /// Every answer is in: charge, with the name if one was given.
    Charge { draft: Draft, name: Option<String> },
}

pub fn card_answer(mut draft: Draft, prompt: &str, text: &str, today: (u16, u8)) -> CardStep {
    let mut error = None;
    let echo;
    if draft.number.is_none() {
        match CardNumber::parse(text) {
            Ok(number) => {
                echo = format!("{prompt}{number}");
                draft.number = Some(number);
            }
            Err(e) => {
                echo = prompt.to_string();
                error = Some(format!("error: {e}"));
            }
        }
    } else if draft.expiry.is_none() {
        echo = format!("{prompt}{text}");
        match Expiry::parse(text, today) {
            Ok(expiry) => draft.expiry = Some(expiry),
            Err(e) => error = Some(format!("error: {e}")),
        }
    } else if draft.cvc.is_none() {
        echo = format!("{prompt}•••");
        let brand = draft.number.as_ref().map(CardNumber::brand);
        match Cvc::parse(text, brand) {
            Ok(_) => draft.cvc = Some(Sensitive(text.trim().to_string())),
            Err(e) => error = Some(format!("error: {e}")),
        }
    } else {
        let name = Some(text.trim().to_string()).filter(|n| !n.is_empty());
        return CardStep {
            echo: format!("{prompt}{text}"),
            error: None,
            next: CardNext::Charge { draft, name },
        };
    }
    CardStep {
        echo,
        error,
        next: CardNext::Ask(draft),
    }
}

/// Whether the answer to a y/N question is yes.
pub fn confirms(text: &str) -> bool {
    matches!(text.trim(), "y" | "Y" | "yes" | "YES" | "Yes")
}

/// An amount typed in major units (`12.50`), in the payment's currency's
/// minor units; refused with the reason if the currency does not allow it.
pub fn amount_in(text: &str, currency: &str) -> Result<i64, String> {
    let currency = Currency::parse(currency).map_err(|e| format!("error: {e}"))?;
    Money::parse_decimal(text, currency)
        .map(|m| m.amount())
        .map_err(|e| format!("error: {e}"))
}

pub fn capture_question(p: &Payment, amount: Option<i64>) -> (String, Pending) {
    let what = amount.map_or("all of".to_string(), |a| {
        format::amount(a, &p.currency) + " of"
    });
    let question = format!(
        "Capture {what} {} ({})?",
        p.id,
        format::amount(p.amount_capturable, &p.currency)
    );
    (
        question,
        Pending::Capture {
            payment: p.id.clone(),
            amount,
        },
    )
}

pub fn void_question(p: &Payment) -> (String, Pending) {
    let question = format!(
        "Void {} ({}, {})?",
        p.id,
        format::amount(p.amount, &p.currency),
        format::card(p)
    );
    (
        question,
        Pending::Void {
            payment: p.id.clone(),
        },
    )
}

pub fn refund_question(
    p: &Payment,
    amount: Option<i64>,
    reason: Option<String>,
) -> (String, Pending) {
    let left = p.amount_captured - p.amount_refunded;
    let what = format::amount(amount.unwrap_or(left), &p.currency);
    let question = format!("Refund {what} of {} to {}?", p.id, format::card(p));
    (
        question,
        Pending::Refund {
            payment: p.id.clone(),
            amount,
            reason,
        },
    )
}

pub fn charge_saved_question(
    money: Money,
    customer: String,
    card: &kasse_core::api::PaymentMethod,
    reference: Option<String>,
) -> (String, Pending) {
    let question = format!(
        "Charge {money} to {} {} •••• {} (expires {:02}/{}), customer absent?",
        customer,
        card.card.brand.display_name(),
        card.card.last4,
        card.card.exp_month,
        card.card.exp_year
    );
    (
        question,
        Pending::ChargeSaved {
            money,
            customer,
            card: card.id.clone(),
            reference,
        },
    )
}

pub fn cancel_subscription_question(s: &kasse_core::api::Subscription) -> (String, Pending) {
    let question = format!(
        "Cancel {} ({} every {} {} of {}, {} paid)? Nothing more will be charged.",
        s.id,
        format::amount(s.amount, &s.currency),
        s.interval_count,
        s.interval,
        s.customer,
        s.cycles_paid
    );
    (
        question,
        Pending::CancelSubscription {
            subscription: s.id.clone(),
        },
    )
}

pub fn approve_question(p: &kasse_core::api::Payout) -> (String, Pending) {
    let question = format!(
        "Approve {} of {} to {}{}, made by {}? The money is sent at once.",
        p.id,
        format::amount(p.amount, &p.currency),
        format::payout_destination(p),
        p.destination
            .account_holder
            .as_deref()
            .map(|h| format!(" ({h})"))
            .unwrap_or_default(),
        p.created_by
    );
    (
        question,
        Pending::ApprovePayout {
            payout: p.id.clone(),
        },
    )
}

pub fn cancel_payout_question(p: &kasse_core::api::Payout) -> (String, Pending) {
    let question = format!(
        "Cancel {} of {} to {}? Its money is available again.",
        p.id,
        format::amount(p.amount, &p.currency),
        format::payout_destination(p),
    );
    (
        question,
        Pending::CancelPayout {
            payout: p.id.clone(),
        },
    )
}

pub fn cancel_link_question(l: &kasse_core::api::PaymentLink) -> (String, Pending) {
    let question = format!(
        "Cancel {} ({} paid of {})? It takes no more payments and its reminders are not sent.",
        l.id,
        format::amount(l.amount_paid, &l.currency),
        format::amount(l.amount, &l.currency),
    );
    (question, Pending::CancelLink { link: l.id.clone() })
}

/// The query of `ls`: the newest `limit`, of a status, since a while ago.
pub fn ls_query(status: Option<PaymentStatus>, since: Option<i64>, limit: u32, now: i64) -> String {
    let mut query = format!("limit={limit}");
    if let Some(status) = status {
        query.push_str(&format!("&status={}", status.as_str()));
    }
    if let Some(since) = since {
        query.push_str(&format!("&created_gte={}", now - since));
    }
    query
}

/// The query of `find`: the payments of one order reference.
pub fn find_query(reference: &str) -> String {
    format!("limit=100&order_reference={}", percent_encode(reference))
}

/// Everything but unreserved characters, as `%XX`.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use kasse_core::api::{CaptureMethod, PaymentCard, PaymentChannel};
    use kasse_core::{CardBrand, Currency};

    use super::*;

    const TODAY: (u16, u8) = (2026, 12);

    fn draft() -> Draft {
        let usd = Currency::parse("USD").unwrap();
        Draft::new(
            Money::new(1250, usd).unwrap(),
            Some("phone-1".into()),
            false,
        )
    }

    fn ask(step: CardStep) -> Draft {
        match step.next {
            CardNext::Ask(draft) => draft,
            other => panic!("expected another question, got {other:?}"),
        }
    }

    #[test]
    fn the_card_is_asked_for_one_answer_at_a_time_and_never_echoed_in_clear() {
        let mut d = draft();
        assert_eq!(Mode::Card(d.clone()).prompt(None), "card number: ");
        assert!(Mode::Card(d.clone()).secret());

        let wrong = card_answer(d.clone(), "card number: ", "4242 4242 4242 4241", TODAY);
        assert_eq!(wrong.echo, "card number: ");
        assert!(wrong.error.is_some());
        assert_eq!(ask(wrong), d, "the same question again");

        let step = card_answer(d, "card number: ", "4242 4242 4242 4242", TODAY);
        assert!(step.error.is_none());
        assert!(
            !step.echo.contains("4242 4242 4242 4242") && !step.echo.contains("4242424242424242")
        );
        assert!(step.echo.ends_with("4242"), "{}", step.echo);
        d = ask(step);
        assert_eq!(Mode::Card(d.clone()).prompt(None), "expiry (MM/YY): ");
        assert!(!Mode::Card(d.clone()).secret());

        let past = card_answer(d.clone(), "expiry (MM/YY): ", "01/20", TODAY);
        assert!(past.error.is_some());
        d = ask(card_answer(d, "expiry (MM/YY): ", "12/30", TODAY));
        assert!(Mode::Card(d.clone()).secret(), "the CVC is typed as dots");

        let short = card_answer(d.clone(), "cvc: ", "12", TODAY);
        assert_eq!(short.echo, "cvc: •••");
        assert!(short.error.is_some());
        let step = card_answer(d, "cvc: ", "737", TODAY);
        assert_eq!(step.echo, "cvc: •••");
        d = ask(step);
        assert_eq!(
            Mode::Card(d.clone()).prompt(None),
            "name on card (Enter to skip): "
        );

        match card_answer(d, "name on card (Enter to skip): ", "  ", TODAY).next {
            CardNext::Charge { draft, name } => {
                assert_eq!(name, None);
                assert_eq!(draft.cvc, Some(Sensitive("737".to_string())));
                assert_eq!(draft.reference.as_deref(), Some("phone-1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn yes_is_yes_and_anything_else_is_no() {
        for yes in ["y", "Y", "yes", " YES ", "Yes"] {
            assert!(confirms(yes), "{yes}");
        }
        for no in ["", "n", "no", "yess", "ok"] {
            assert!(!confirms(no), "{no}");
        }
    }

    #[test]
    fn amounts_are_typed_in_major_units_of_the_payments_currency() {
        assert_eq!(amount_in("12.50", "USD"), Ok(1250));
        assert_eq!(amount_in("500", "JPY"), Ok(500));
        assert!(amount_in("12.505", "USD").is_err());
        assert!(amount_in("5.5", "JPY").is_err());
        assert!(amount_in("1", "XYZ").is_err());
    }

    #[test]
    fn listing_queries_say_what_was_asked() {
        assert_eq!(ls_query(None, None, 20, 1_000), "limit=20");
        assert_eq!(
            ls_query(Some(PaymentStatus::Succeeded), Some(86_400), 5, 100_000),
            "limit=5&status=succeeded&created_gte=13600"
        );
        assert_eq!(
            find_query("order 7&x=1"),
            "limit=100&order_reference=order%207%26x%3D1"
        );
    }

    #[test]
    fn a_change_is_asked_about_in_words_before_it_is_made() {
        let p = Payment {
            id: "pay_1".into(),
            object: "payment".into(),
            status: PaymentStatus::RequiresCapture,
            amount: 2000,
            amount_capturable: 2000,
            amount_captured: 0,
            amount_refunded: 0,
            currency: "USD".into(),
            capture_method: CaptureMethod::Manual,
            channel: PaymentChannel::Moto,
            checkout_session: None,
            order_reference: None,
            card: PaymentCard {
                brand: CardBrand::Visa,
                bin: "424242".into(),
                last4: "4242".into(),
                exp_month: 12,
                exp_year: 2030,
                fingerprint: None,
            },
            decline_code: None,
            created: 0,
            customer: None,
            payment_method: None,
            mandate: None,
            off_session: false,
            recovery_session: None,
            recovery_url: None,
            settlement: None,
            settlement_status: None,
        };
        let (question, pending) = capture_question(&p, Some(500));
        assert!(question.starts_with("Capture $5.00 of pay_1"), "{question}");
        assert_eq!(
            pending,
            Pending::Capture {
                payment: "pay_1".into(),
                amount: Some(500)
            }
        );
        let (question, _) = capture_question(&p, None);
        assert!(question.starts_with("Capture all of pay_1"), "{question}");
        let (question, pending) = void_question(&p);
        assert!(question.starts_with("Void pay_1"), "{question}");
        assert_eq!(
            pending,
            Pending::Void {
                payment: "pay_1".into()
            }
        );
        let (question, _) = refund_question(&p, None, Some("broken".into()));
        assert!(question.starts_with("Refund $0.00 of pay_1"), "{question}");
    }
}
