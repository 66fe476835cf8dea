//! The terminal's command language, history, completion and formatting.

use kasse_core::{Currency, Money, PaymentStatus};
use kasse_terminal::command::{
    COMMANDS, Command, LinkItem, parse, parse_duration, spec, split_words,
};
use kasse_terminal::complete::{Completion, complete};
use kasse_terminal::history::{History, holds_card_number};

fn ok(line: &str) -> Command {
    match parse(line) {
        Ok(Some(command)) => command,
        other => panic!("{line:?} gave {other:?}"),
    }
}

/// The error's message, checked to come with the command's usage line.
fn bad(line: &str) -> String {
    let error = parse(line).expect_err(line);
    let name = line.split_whitespace().next().unwrap();
    assert_eq!(
        error.usage,
        spec(name).map(|s| s.usage),
        "{line:?} names its usage"
    );
    error.message
}

fn usd(text: &str) -> Money {
    Money::parse_decimal(text, Currency::parse("USD").unwrap()).unwrap()
}

#[test]
fn words_split_like_a_shell() {
    assert_eq!(
        split_words(r#"refund pay_1 --reason "damaged box"  x\ y 'a b'"#).unwrap(),
        ["refund", "pay_1", "--reason", "damaged box", "x y", "a b"]
    );
    assert_eq!(split_words("  ").unwrap(), Vec::<String>::new());
    assert_eq!(split_words(r#"a "" b"#).unwrap(), ["a", "", "b"]);
    assert!(split_words("find \"open").is_err());
    assert_eq!(parse("   "), Ok(None));
}

#[test]
fn charge_takes_an_amount_a_currency_and_options() {
    assert_eq!(
        ok("charge 25.00 usd --ref order-17"),
        Command::Charge {
            money: usd("25"),
            reference: Some("order-17".into()),
            manual: false
        }
    );
    assert_eq!(
        ok("CHARGE 5 USD --manual --ref=a"),
        Command::Charge {
            money: usd("5"),
            reference: Some("a".into()),
            manual: true
        }
    );
    assert_eq!(bad("charge"), "missing an amount and a currency");
    assert_eq!(bad("charge 5"), "missing a currency");
    assert!(bad("charge 5 XYZ").contains("not an ISO 4217 currency"));
    assert!(bad("charge 5.555 USD").contains("2 decimal places"));
    assert!(bad("charge five USD").contains("not an amount"));
    assert!(bad("charge 0 USD").contains("positive"));
    assert_eq!(bad("charge 5 USD extra"), "unexpected `extra`");
    assert_eq!(bad("charge 5 USD --ref"), "--ref needs a value");
    assert_eq!(bad("charge 5 USD --manual=yes"), "--manual takes no value");
    assert_eq!(
        bad("charge 5 USD --capture"),
        "charge has no option --capture"
    );
    assert_eq!(bad("charge 5 USD --ref a --ref b"), "--ref is given twice");
}

#[test]
fn capture_void_refund_and_show_take_a_payment_id() {
    assert_eq!(
        ok("capture pay_abc 5.50"),
        Command::Capture {
            payment: "pay_abc".into(),
            amount: Some("5.50".into())
        }
    );
    assert_eq!(
        ok("capture pay_abc"),
        Command::Capture {
            payment: "pay_abc".into(),
            amount: None
        }
    );
    assert_eq!(
        ok("void pay_abc"),
        Command::Void {
            payment: "pay_abc".into()
        }
    );
    assert_eq!(
        ok("refund pay_abc 12.50 --reason 'damaged box'"),
        Command::Refund {
            payment: "pay_abc".into(),
            amount: Some("12.50".into()),
            reason: Some("damaged box".into())
        }
    );
    assert_eq!(
        ok("refund pay_abc"),
        Command::Refund {
            payment: "pay_abc".into(),
            amount: None,
            reason: None
        }
    );
    assert_eq!(
        ok("show pay_abc"),
        Command::Show {
            payment: "pay_abc".into()
        }
    );
    for name in ["capture", "void", "refund", "show"] {
        assert_eq!(bad(name), "missing a payment id");
        assert!(bad(&format!("{name} cs_abc")).contains("not a payment id"));
        assert!(bad(&format!("{name} pay_")).contains("not a payment id"));
    }
    assert!(bad("refund pay_abc ten").contains("not an amount"));
    assert!(bad("capture pay_abc 1.2.3").contains("not an amount"));
    assert_eq!(bad("void pay_abc 5"), "unexpected `5`");
    assert_eq!(bad("refund pay_abc 5 6"), "unexpected `6`");
    assert_eq!(bad("show pay_a pay_b"), "unexpected `pay_b`");
}

#[test]
fn ls_filters_by_status_age_and_count() {
    assert_eq!(
        ok("ls"),
        Command::Ls {
            status: None,
            since: None,
            limit: 20
        }
    );
    assert_eq!(
        ok("ls --status refunded --since 1d --limit 5"),
        Command::Ls {
            status: Some(PaymentStatus::Refunded),
            since: Some(86_400),
            limit: 5
        }
    );
    assert!(bad("ls --status paid").contains("unknown status `paid`"));
    assert!(bad("ls --since yesterday").contains("not a duration"));
    assert_eq!(bad("ls --limit 0"), "--limit is 1 to 100, not `0`");
    assert_eq!(bad("ls --limit 101"), "--limit is 1 to 100, not `101`");
    assert_eq!(bad("ls pay_abc"), "unexpected `pay_abc`");
    assert_eq!(parse_duration("30m"), Some(1800));
    assert_eq!(parse_duration("2w"), Some(1_209_600));
    assert_eq!(parse_duration("0h"), None);
    assert_eq!(parse_duration("5y"), None);
    assert_eq!(parse_duration(""), None);
}

#[test]
fn find_link_events_and_resend() {
    assert_eq!(
        ok("find \"order 17\""),
        Command::Find {
            reference: "order 17".into()
        }
    );
    assert_eq!(bad("find"), "missing an order reference");
    assert_eq!(
        ok("link 10 usd"),
        Command::Link {
            money: usd("10"),
            items: vec![],
            reference: None,
            expires: 30 * 86_400,
            email: None,
            partial: false,
        }
    );
    assert_eq!(
        ok("link 10 usd --ref r1 --expires 45d --email ada@example.com --partial"),
        Command::Link {
            money: usd("10"),
            items: vec![],
            reference: Some("r1".into()),
            expires: 45 * 86_400,
            email: Some("ada@example.com".into()),
            partial: true,
        }
    );
    // Items add up; a name may hold a colon.
    assert_eq!(
        ok("link usd --item \"Tea: green:2:12.50\" --item Pot:1:40"),
        Command::Link {
            money: usd("65"),
            items: vec![
                LinkItem {
                    name: "Tea: green".into(),
                    quantity: 2,
                    unit: usd("12.50"),
                },
                LinkItem {
                    name: "Pot".into(),
                    quantity: 1,
                    unit: usd("40"),
                },
            ],
            reference: None,
            expires: 30 * 86_400,
            email: None,
            partial: false,
        }
    );
    assert_eq!(
        bad("link 10 usd --item Tea:1:10"),
        "with --item, give only the currency: the amount is the items' sum"
    );
    assert_eq!(
        bad("link usd --item Tea:0:10"),
        "--item `Tea:0:10` is not Name:quantity:price, like \"Tea:2:12.50\""
    );
    assert!(bad("link usd --item Tea:1:10.005").contains("2 decimal places"));
    assert_eq!(
        bad("link 10 usd --expires 10m"),
        "--expires is 1h to 180d, not `10m`"
    );
    assert_eq!(
        bad("link 10 usd --expires 181d"),
        "--expires is 1h to 180d, not `181d`"
    );
    assert_eq!(
        bad("link 10 usd --email nobody"),
        "`nobody` is not an email address"
    );
    assert_eq!(
        ok("link plink_Abc123"),
        Command::LinkDetails {
            link: "plink_Abc123".into()
        }
    );
    assert_eq!(
        bad("link plink_Abc123 --partial"),
        "link plink_… takes nothing more: it shows that link"
    );
    assert_eq!(ok("links"), Command::Links { status: None });
    assert_eq!(ok("balance"), Command::Balance);
    assert_eq!(ok("settlements"), Command::Settlements);
    assert_eq!(
        ok("report settlement stl_Abc1 --json"),
        Command::Report {
            settlement: "stl_Abc1".into(),
            json: true
        }
    );
    assert_eq!(
        bad("report payout po_1"),
        "unknown report `payout`; use report settlement stl_…"
    );
    assert_eq!(
        bad("report settlement"),
        "missing what to report: settlement stl_…"
    );
    assert_eq!(bad("balance usd"), "unexpected `usd`");
    assert_eq!(
        ok("links --status partially_paid"),
        Command::Links {
            status: Some("partially_paid".into())
        }
    );
    assert!(bad("links --status late").starts_with("unknown status `late`"));
    assert_eq!(
        ok("send plink_Abc123"),
        Command::Send {
            link: "plink_Abc123".into()
        }
    );
    assert_eq!(bad("send"), "missing a payment link id");
    assert_eq!(
        ok("cancel-link plink_Abc123"),
        Command::CancelLink {
            link: "plink_Abc123".into()
        }
    );
    assert_eq!(
        bad("cancel-link pay_123"),
        "`pay_123` is not a payment link id (plink_…)"
    );
    assert_eq!(bad("link 10"), "missing a currency");
    assert_eq!(
        ok("payouts --status requires_approval"),
        Command::Payouts {
            status: Some("requires_approval".into())
        }
    );
    assert!(bad("payouts --status lost").starts_with("unknown status `lost`"));
    assert_eq!(
        ok("payout po_Abc123"),
        Command::PayoutDetails {
            payout: "po_Abc123".into()
        }
    );
    assert_eq!(
        ok(
            "payout 250.00 USD --account 000123450000 --bank-code SANDBDDH --holder \"Rahima Akter\" --country BD --ref supplier-17"
        ),
        Command::PayOut {
            money: Money::parse_decimal("250.00", Currency::parse("USD").unwrap()).unwrap(),
            account: "000123450000".into(),
            bank_code: "SANDBDDH".into(),
            holder: "Rahima Akter".into(),
            country: "BD".into(),
            reference: "supplier-17".into(),
            purpose: "Payout".into(),
        }
    );
    assert_eq!(
        bad("payout 250.00 USD --account 000123450000 --holder H --country BD --ref r"),
        "missing --bank-code"
    );
    assert_eq!(
        bad("payout"),
        "missing an amount and a currency, or a payout id"
    );
    assert_eq!(
        ok("approve po_Abc123"),
        Command::Approve {
            payout: "po_Abc123".into()
        }
    );
    assert_eq!(
        bad("approve pay_123"),
        "`pay_123` is not a payout id (po_…)"
    );
    assert_eq!(
        ok("cancel-payout po_Abc123"),
        Command::CancelPayout {
            payout: "po_Abc123".into()
        }
    );
    assert_eq!(ok("events"), Command::Events { kind: None });
    assert_eq!(
        ok("events --type refund.succeeded"),
        Command::Events {
            kind: Some("refund.succeeded".into())
        }
    );
    assert!(bad("events --type refund.done").contains("unknown event type"));
    assert_eq!(
        ok("resend evt_1"),
        Command::Resend {
            event: "evt_1".into()
        }
    );
    assert!(bad("resend pay_1").contains("not an event id"));
    assert_eq!(bad("resend"), "missing an event id");
}

#[test]
fn sslcommerz_credentials_asks_for_replace_because_the_old_pair_stops_working() {
    assert_eq!(
        ok("sslcommerz-credentials --replace"),
        Command::SslcommerzCredentials
    );
    assert!(bad("sslcommerz-credentials").contains("add --replace"));
    assert_eq!(
        bad("sslcommerz-credentials --replace now"),
        "unexpected `now`"
    );
}

#[test]
fn the_simple_commands_take_nothing() {
    assert_eq!(ok("whoami"), Command::Whoami);
    assert_eq!(ok("logout"), Command::Logout);
    assert_eq!(ok("clear"), Command::Clear);
    assert_eq!(ok("help"), Command::Help(None));
    assert_eq!(ok("help refund"), Command::Help(spec("refund")));
    assert_eq!(bad("help nothing"), "there is no command `nothing`");
    for name in ["whoami", "logout", "clear"] {
        assert_eq!(bad(&format!("{name} now")), "unexpected `now`");
    }
    let unknown = parse("pay 5").unwrap_err();
    assert_eq!(unknown.usage, None);
    assert!(unknown.message.contains("unknown command `pay`"));
    // Every command has help, and its usage starts with its name.
    for spec in COMMANDS {
        assert!(spec.usage.starts_with(spec.name), "{}", spec.name);
        assert!(parse(&format!("help {}", spec.name)).is_ok());
    }
}

#[test]
fn history_keeps_commands_and_never_a_card_number() {
    let mut history = History::default();
    history.push("ls");
    history.push("ls");
    history.push("  ");
    history.push("charge 5 USD");
    history.push("find 4242 4242 4242 4242");
    history.push("find 4242-4242-4242-4242");
    history.push("find 4242424242424242");
    history.push("find order-12345");
    assert_eq!(
        history.entries(),
        ["ls", "charge 5 USD", "find order-12345"]
    );
    assert!(holds_card_number("x 5555555555554444 y"));
    assert!(!holds_card_number("refund pay_abc 12.50"));
    assert!(!holds_card_number("ls --limit 100"));

    // ↑ walks back, ↓ forward and then to what was being typed.
    assert_eq!(history.back("sh"), Some("find order-12345"));
    assert_eq!(history.back(""), Some("charge 5 USD"));
    assert_eq!(history.back(""), Some("ls"));
    assert_eq!(history.back(""), Some("ls"));
    assert_eq!(history.forward(), Some("charge 5 USD"));
    assert_eq!(history.forward(), Some("find order-12345"));
    assert_eq!(history.forward(), Some("sh"));
    assert_eq!(history.forward(), None);

    let mut full = History::from_entries((0..250).map(|i| format!("show pay_{i}")).collect());
    assert_eq!(full.entries().len(), kasse_terminal::history::CAPACITY);
    assert_eq!(full.back(""), Some("show pay_249"));
    assert_eq!(
        History::storage_key("usr_1"),
        "kasse.terminal.history.usr_1"
    );
}

#[test]
fn tab_completes_commands_then_payment_ids() {
    let ids = vec![
        "pay_abc1".to_string(),
        "pay_abc2".to_string(),
        "pay_xyz".to_string(),
    ];
    assert_eq!(complete("ref", &ids), Completion::Line("refund ".into()));
    assert_eq!(
        complete("c", &ids),
        Completion::Choices(vec![
            "charge".into(),
            "capture".into(),
            "cancel-payout".into(),
            "cancel-link".into(),
            "customers".into(),
            "customer".into(),
            "cancel-subscription".into(),
            "clear".into()
        ])
    );
    assert_eq!(
        complete("ca", &ids),
        Completion::Choices(vec![
            "capture".into(),
            "cancel-payout".into(),
            "cancel-link".into(),
            "cancel-subscription".into()
        ])
    );
    assert_eq!(complete("cap", &ids), Completion::Line("capture ".into()));
    assert_eq!(complete("zz", &ids), Completion::None);
    assert_eq!(
        complete("refund pay_x", &ids),
        Completion::Line("refund pay_xyz ".into())
    );
    assert_eq!(
        complete("show pay_a", &ids),
        Completion::Line("show pay_abc".into())
    );
    assert_eq!(
        complete("show pay_abc", &ids),
        Completion::Choices(vec!["pay_abc1".into(), "pay_abc2".into()])
    );
    assert_eq!(
        complete("help vo", &ids),
        Completion::Line("help void ".into())
    );
    assert_eq!(complete("ls --st", &ids), Completion::None);
    assert_eq!(complete("refund pay_xyz 5", &ids), Completion::None);
}

#[test]
fn a_saved_card_is_charged_with_its_customer_and_nothing_keyed() {
    assert_eq!(
        ok("charge 9.90 USD --customer cus_A1 --card pm_B2 --ref renewal-7"),
        Command::ChargeSaved {
            money: usd("9.90"),
            customer: "cus_A1".into(),
            card: "pm_B2".into(),
            reference: Some("renewal-7".into()),
        }
    );
    assert_eq!(
        bad("charge 9.90 USD --customer cus_A1"),
        "a saved card needs both --customer and --card"
    );
    assert_eq!(
        bad("charge 9.90 USD --card pm_B2"),
        "a saved card needs both --customer and --card"
    );
    assert!(bad("charge 9.90 USD --customer cus_A1 --card pm_B2 --manual").contains("--manual"));
    assert_eq!(
        bad("charge 9.90 USD --customer pay_1 --card pm_B2"),
        "`pay_1` is not a customer id (cus_…)"
    );
    assert_eq!(
        bad("charge 9.90 USD --customer cus_A1 --card 4242424242424242"),
        "`4242424242424242` is not a saved card id (pm_…)"
    );
}

#[test]
fn customers_and_subscriptions_are_listed_shown_and_canceled() {
    assert_eq!(ok("customers"), Command::Customers { email: None });
    assert_eq!(
        ok("customers --email ada@example.com"),
        Command::Customers {
            email: Some("ada@example.com".into())
        }
    );
    assert_eq!(
        ok("customer cus_A1"),
        Command::Customer {
            customer: "cus_A1".into()
        }
    );
    assert_eq!(bad("customer"), "missing a customer id");
    assert_eq!(
        bad("customer pay_1"),
        "`pay_1` is not a customer id (cus_…)"
    );
    assert_eq!(
        ok("subscriptions"),
        Command::Subscriptions { customer: None }
    );
    assert_eq!(
        ok("subscriptions --customer cus_A1"),
        Command::Subscriptions {
            customer: Some("cus_A1".into())
        }
    );
    assert_eq!(
        ok("cancel-subscription sub_C3"),
        Command::CancelSubscription {
            subscription: "sub_C3".into()
        }
    );
    assert_eq!(bad("cancel-subscription"), "missing a subscription id");
    assert_eq!(
        bad("cancel-subscription cus_A1"),
        "`cus_A1` is not a subscription id (sub_…)"
    );
}
