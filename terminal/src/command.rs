//! The terminal's command language: words split like a shell's (quotes
//! keep spaces), `--flag value` or `--flag=value`, and a usage line for
//! every mistake. Pure, so every command is tested natively.

use kasse_core::{Currency, Money, PaymentStatus};

/// One command a member of staff typed, checked and ready to run.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help(Option<&'static Spec>),
    Charge {
        money: Money,
        reference: Option<String>,
        manual: bool,
    },
    /// A customer's saved card charged with the customer absent.
    ChargeSaved {
        money: Money,
        customer: String,
        card: String,
        reference: Option<String>,
    },
    Capture {
        payment: String,
        amount: Option<String>,
    },
    Void {
        payment: String,
    },
    Refund {
        payment: String,
        amount: Option<String>,
        reason: Option<String>,
    },
    Show {
        payment: String,
    },
    Ls {
        status: Option<PaymentStatus>,
        /// Seconds back from now.
        since: Option<i64>,
        limit: u32,
    },
    Find {
        reference: String,
    },
    /// A payment link: an amount, or line items that add up to one.
    Link {
        money: Money,
        items: Vec<LinkItem>,
        reference: Option<String>,
        /// Seconds the link stays payable.
        expires: i64,
        /// Emailed to this customer, with a receipt after each payment.
        email: Option<String>,
        /// May be paid in parts.
        partial: bool,
    },
    Links {
        status: Option<String>,
    },
    /// The balance per currency, and the latest movements.
    Balance,
    Settlements,
    /// A settlement's report, saved by the browser.
    Report {
        settlement: String,
        json: bool,
    },
    Payouts {
        status: Option<String>,
    },
    /// Money sent to a bank account.
    PayOut {
        money: Money,
        account: String,
        bank_code: String,
        holder: String,
        country: String,
        reference: String,
        purpose: String,
    },
    PayoutDetails {
        payout: String,
    },
    Approve {
        payout: String,
    },
    CancelPayout {
        payout: String,
    },
    /// One link, its payments and its emails.
    LinkDetails {
        link: String,
    },
    Send {
        link: String,
    },
    CancelLink {
        link: String,
    },
    Events {
        kind: Option<String>,
    },
    Customers {
        email: Option<String>,
    },
    Customer {
        customer: String,
    },
    Subscriptions {
        customer: Option<String>,
    },
    CancelSubscription {
        subscription: String,
    },
    Resend {
        event: String,
    },
    /// A new SSLCOMMERZ store_id and store_passwd; `--replace` says the
    /// admin knows the current pair stops working.
    SslcommerzCredentials,
    Whoami,
    Logout,
    Clear,
}

/// One line of a payment link: `--item "Name:qty:12.50"`.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkItem {
    pub name: String,
    pub quantity: u32,
    pub unit: Money,
}

/// A link lives from an hour to 180 days; 30 days unless told.
pub const LINK_EXPIRES_MIN: i64 = 3600;
pub const LINK_EXPIRES_MAX: i64 = 180 * 86_400;
pub const LINK_EXPIRES_DEFAULT: i64 = 30 * 86_400;

/// A command's name, how to call it, and what it does.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
    pub details: &'static str,
}

pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "charge",
        usage: "charge <amount> <currency> [--ref R] [--manual] [--customer C --card pm_…]",
        summary: "take a card by phone or mail, or charge a customer's saved card",
        details: "Asks for the card number, expiry (MM/YY), CVC and cardholder name. \
                  --manual only authorises; capture it later. Example: charge 25.00 USD --ref order-17. \
                  With --customer and --card, charges that saved card with the customer absent, \
                  under its mandate, after y/N: charge 9.90 USD --customer cus_… --card pm_…",
    },
    Spec {
        name: "capture",
        usage: "capture <payment> [amount]",
        summary: "capture an authorised payment, all of it or less",
        details: "What is not captured is released to the cardholder. Asks y/N first.",
    },
    Spec {
        name: "void",
        usage: "void <payment>",
        summary: "cancel an authorised payment before capture",
        details: "Releases the whole authorisation. Asks y/N first.",
    },
    Spec {
        name: "refund",
        usage: "refund <payment> [amount] [--reason R]",
        summary: "give money back, all that is left or part of it",
        details: "Several partial refunds never add up to more than was captured. Asks y/N first. \
                  Example: refund pay_… 5.00 --reason \"damaged box\"",
    },
    Spec {
        name: "show",
        usage: "show <payment>",
        summary: "a payment's details, refunds and events",
        details: "",
    },
    Spec {
        name: "ls",
        usage: "ls [--status S] [--since 1d] [--limit N]",
        summary: "recent payments, newest first",
        details: "--since takes minutes, hours, days or weeks: 30m, 12h, 1d, 2w. --limit is 1 to 100 (20).",
    },
    Spec {
        name: "find",
        usage: "find <order reference>",
        summary: "the payments for one order",
        details: "",
    },
    Spec {
        name: "link",
        usage: "link <amount> <currency> | link <currency> --item \"Name:qty:12.50\"… [--email E] [--partial] [--expires 30d] [--ref R] | link <plink_…>",
        summary: "a payment link with a QR code, emailed if asked; or one link's payments and emails",
        details: "The customer pays on Kasse's page until the link expires (--expires 1h to 180d, 30d). \
                  --item may be given several times; the amount is their sum. --email sends the link \
                  to that address, and a receipt after each payment. --partial lets it be paid in parts. \
                  Example: link USD --item \"Tea:2:12.50\" --item \"Pot:1:40\" --email ada@example.com --partial. \
                  link plink_… shows a link, its payments and its emails.",
    },
    Spec {
        name: "balance",
        usage: "balance",
        summary: "what Kasse holds for the merchant, and the latest ledger rows",
        details: "Available is captured money, less fees and refunds, past the merchant's delay; \
                  pending is not yet available.",
    },
    Spec {
        name: "settlements",
        usage: "settlements",
        summary: "the merchant's closed business days, newest first",
        details: "",
    },
    Spec {
        name: "report",
        usage: "report settlement <stl_…> [--json]",
        summary: "download a settlement's report (CSV, or JSON)",
        details: "The browser saves it; its SHA-256 is shown, the same every time it is made.",
    },
    Spec {
        name: "payouts",
        usage: "payouts [--status S]",
        summary: "payouts to cards and bank accounts, newest first",
        details: "S is requires_approval, pending, in_transit, paid, failed, canceled or returned.",
    },
    Spec {
        name: "payout",
        usage: "payout <amount> <currency> --account N --bank-code B --holder H --country CC --ref R [--purpose P] | payout <po_…>",
        summary: "pay money out to a bank account, or show a payout",
        details: "The amount is reserved from the available balance at once. --ref is your reference,                   never used twice. A payout at or above the merchant's threshold waits for another                   admin's approve. Example: payout 250.00 USD --account 000123450000 --bank-code SANDBDDH                   --holder \"Rahima Akter\" --country BD --ref supplier-17",
    },
    Spec {
        name: "approve",
        usage: "approve <po_…>",
        summary: "approve a payout that waits for it (admins; not its maker)",
        details: "Asks y/N, then sends the money.",
    },
    Spec {
        name: "cancel-payout",
        usage: "cancel-payout <po_…>",
        summary: "cancel a payout before it is sent; its money is available again",
        details: "",
    },
    Spec {
        name: "links",
        usage: "links [--status S]",
        summary: "payment links, newest first",
        details: "S is open, partially_paid, paid, expired or canceled.",
    },
    Spec {
        name: "send",
        usage: "send <plink_…>",
        summary: "email a payment link to its customer again",
        details: "",
    },
    Spec {
        name: "cancel-link",
        usage: "cancel-link <plink_…>",
        summary: "cancel a payment link: it takes no more payments",
        details: "Its reminders are not sent. Asks y/N first.",
    },
    Spec {
        name: "events",
        usage: "events [--type T]",
        summary: "recent webhook events",
        details: "Example: events --type payment.succeeded",
    },
    Spec {
        name: "customers",
        usage: "customers [--email E]",
        summary: "the merchant's customers, newest first",
        details: "",
    },
    Spec {
        name: "customer",
        usage: "customer <customer>",
        summary: "a customer's saved cards, mandates and subscriptions",
        details: "",
    },
    Spec {
        name: "subscriptions",
        usage: "subscriptions [--customer C]",
        summary: "subscriptions, newest first, with their next charge",
        details: "",
    },
    Spec {
        name: "cancel-subscription",
        usage: "cancel-subscription <subscription>",
        summary: "stop a subscription: nothing more is charged",
        details: "Asks y/N first.",
    },
    Spec {
        name: "resend",
        usage: "resend <event>",
        summary: "deliver an event to the webhooks again (admin)",
        details: "",
    },
    Spec {
        name: "sslcommerz-credentials",
        usage: "sslcommerz-credentials --replace",
        summary: "a new store_id and store_passwd for SSLCOMMERZ integrations (admin)",
        details: "The password is shown once. The store's current pair stops working at once, \
                  which --replace confirms.",
    },
    Spec {
        name: "whoami",
        usage: "whoami",
        summary: "who is logged in, for which merchant, in which role",
        details: "",
    },
    Spec {
        name: "logout",
        usage: "logout",
        summary: "end this login",
        details: "",
    },
    Spec {
        name: "clear",
        usage: "clear",
        summary: "clear the screen (Ctrl+L)",
        details: "",
    },
    Spec {
        name: "help",
        usage: "help [command]",
        summary: "the commands, or one in detail",
        details: "↑/↓ recall earlier commands, Tab completes commands and payment ids, \
                  Ctrl+C cancels a question, Ctrl+L clears the screen.",
    },
];

pub fn spec(name: &str) -> Option<&'static Spec> {
    COMMANDS.iter().find(|s| s.name == name)
}

/// What was wrong, and how the command is called.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub message: String,
    /// The usage line of the command, when it was a known one.
    pub usage: Option<&'static str>,
}

impl ParseError {
    fn new(spec: &'static Spec, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            usage: Some(spec.usage),
        }
    }
}

/// Splits a line into words: spaces separate, quotes (' or ") keep them,
/// a backslash escapes the next character.
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), '\\') | (None, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("unclosed quote {q}"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// Positional words and `--flag [value]` options, as one command takes them.
struct Args {
    spec: &'static Spec,
    positional: Vec<String>,
    options: Vec<(String, Option<String>)>,
}

impl Args {
    /// `takes_value` names the options that take a value; `switches` those that do not.
    fn split(
        spec: &'static Spec,
        words: &[String],
        takes_value: &[&str],
        switches: &[&str],
    ) -> Result<Self, ParseError> {
        let mut positional = Vec::new();
        let mut options: Vec<(String, Option<String>)> = Vec::new();
        let mut iter = words.iter();
        while let Some(word) = iter.next() {
            let Some(flag) = word.strip_prefix("--") else {
                positional.push(word.clone());
                continue;
            };
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (flag, None),
            };
            if name != "item" && options.iter().any(|(n, _)| n == name) {
                return Err(ParseError::new(spec, format!("--{name} is given twice")));
            }
            if takes_value.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => iter
                        .next()
                        .cloned()
                        .ok_or_else(|| ParseError::new(spec, format!("--{name} needs a value")))?,
                };
                if value.trim().is_empty() {
                    return Err(ParseError::new(spec, format!("--{name} needs a value")));
                }
                options.push((name.to_string(), Some(value)));
            } else if switches.contains(&name) {
                if inline.is_some() {
                    return Err(ParseError::new(spec, format!("--{name} takes no value")));
                }
                options.push((name.to_string(), None));
            } else {
                return Err(ParseError::new(
                    spec,
                    format!("{} has no option --{name}", spec.name),
                ));
            }
        }
        Ok(Self {
            spec,
            positional,
            options,
        })
    }

    fn value(&self, name: &str) -> Option<String> {
        self.options
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| v.clone())
    }

    /// Every value of an option that may be given several times.
    fn values(&self, name: &str) -> Vec<String> {
        self.options
            .iter()
            .filter(|(n, _)| n == name)
            .filter_map(|(_, v)| v.clone())
            .collect()
    }

    fn switch(&self, name: &str) -> bool {
        self.options.iter().any(|(n, _)| n == name)
    }

    /// Exactly `min..=max` positional words.
    fn count(&self, min: usize, max: usize) -> Result<(), ParseError> {
        let n = self.positional.len();
        if n < min {
            let missing = match self.spec.name {
                "charge" | "link" if n == 0 => "an amount and a currency",
                "charge" | "link" => "a currency",
                "find" => "an order reference",
                "resend" => "an event id",
                "customer" => "a customer id",
                "cancel-subscription" => "a subscription id",
                "send" | "cancel-link" => "a payment link id",
                "report" => "what to report: settlement stl_…",
                "payout" => "an amount and a currency, or a payout id",
                "approve" | "cancel-payout" => "a payout id",
                _ => "a payment id",
            };
            return Err(ParseError::new(self.spec, format!("missing {missing}")));
        }
        if n > max {
            return Err(ParseError::new(
                self.spec,
                format!("unexpected `{}`", self.positional[max]),
            ));
        }
        Ok(())
    }

    fn id(&self, index: usize, prefix: &str, what: &str) -> Result<String, ParseError> {
        checked_id(self.spec, &self.positional[index], prefix, what)
    }

    fn money(&self) -> Result<Money, ParseError> {
        let currency = Currency::parse(&self.positional[1]).map_err(|e| {
            ParseError::new(
                self.spec,
                format!("{e}; use a code such as USD, BDT or MNT"),
            )
        })?;
        Money::parse_decimal(&self.positional[0], currency)
            .map_err(|e| ParseError::new(self.spec, e.to_string()))
    }

    /// An optional amount, checked for its form; its currency is the payment's.
    fn amount(&self, index: usize) -> Result<Option<String>, ParseError> {
        let Some(text) = self.positional.get(index) else {
            return Ok(None);
        };
        let valid = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
            && text.chars().filter(|&c| c == '.').count() <= 1
            && text.chars().any(|c| c.is_ascii_digit());
        if valid {
            Ok(Some(text.clone()))
        } else {
            Err(ParseError::new(
                self.spec,
                format!("`{text}` is not an amount: write it like 12.50"),
            ))
        }
    }

    fn text(&self, name: &str, max: usize) -> Result<Option<String>, ParseError> {
        let Some(value) = self.value(name) else {
            return Ok(None);
        };
        if value.chars().count() > max || value.chars().any(char::is_control) {
            return Err(ParseError::new(
                self.spec,
                format!("--{name} must be at most {max} characters"),
            ));
        }
        Ok(Some(value.trim().to_string()))
    }
}

/// `id` if it is `prefix` and letters and digits.
fn checked_id(
    spec: &'static Spec,
    id: &str,
    prefix: &str,
    what: &str,
) -> Result<String, ParseError> {
    let valid = id
        .strip_prefix(prefix)
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()));
    if valid {
        Ok(id.to_string())
    } else {
        Err(ParseError::new(
            spec,
            format!("`{id}` is not {what} id ({prefix}…)"),
        ))
    }
}

/// `Name:qty:12.50`: the name may hold colons; the last two fields are the
/// quantity and the unit price.
fn link_item(spec: &'static Spec, text: &str, currency: Currency) -> Result<LinkItem, ParseError> {
    let bad = || {
        ParseError::new(
            spec,
            format!("--item `{text}` is not Name:quantity:price, like \"Tea:2:12.50\""),
        )
    };
    let mut parts = text.rsplitn(3, ':');
    let (Some(price), Some(quantity), Some(name)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let name = name.trim();
    let quantity: u32 = quantity.trim().parse().map_err(|_| bad())?;
    if name.is_empty() || quantity == 0 {
        return Err(bad());
    }
    let unit = Money::parse_decimal(price.trim(), currency)
        .map_err(|e| ParseError::new(spec, format!("--item `{text}`: {e}")))?;
    Ok(LinkItem {
        name: name.to_string(),
        quantity,
        unit,
    })
}

/// `30m`, `12h`, `1d`, `2w` as seconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let number: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return None,
    };
    (number > 0).then(|| number.checked_mul(seconds)).flatten()
}

/// Parses one line: `Ok(None)` for a blank one.
pub fn parse(line: &str) -> Result<Option<Command>, ParseError> {
    let words = split_words(line).map_err(|message| ParseError {
        message,
        usage: None,
    })?;
    let Some((name, rest)) = words.split_first() else {
        return Ok(None);
    };
    let Some(spec) = spec(&name.to_ascii_lowercase()) else {
        return Err(ParseError {
            message: format!("unknown command `{name}`; type help to see the commands"),
            usage: None,
        });
    };
    let command = match spec.name {
        "help" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(0, 1)?;
            match args.positional.first() {
                None => Command::Help(None),
                Some(topic) => Command::Help(Some(self::spec(topic).ok_or_else(|| {
                    ParseError::new(spec, format!("there is no command `{topic}`"))
                })?)),
            }
        }
        "charge" => {
            let args = Args::split(spec, rest, &["ref", "customer", "card"], &["manual"])?;
            args.count(2, 2)?;
            match (args.value("customer"), args.value("card")) {
                (None, None) => Command::Charge {
                    money: args.money()?,
                    reference: args.text("ref", 128)?,
                    manual: args.switch("manual"),
                },
                (Some(customer), Some(card)) => {
                    if args.switch("manual") {
                        return Err(ParseError::new(
                            spec,
                            "a saved card is charged at once; --manual is for keyed cards",
                        ));
                    }
                    Command::ChargeSaved {
                        money: args.money()?,
                        customer: checked_id(spec, &customer, "cus_", "a customer")?,
                        card: checked_id(spec, &card, "pm_", "a saved card")?,
                        reference: args.text("ref", 128)?,
                    }
                }
                _ => {
                    return Err(ParseError::new(
                        spec,
                        "a saved card needs both --customer and --card",
                    ));
                }
            }
        }
        "capture" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 2)?;
            Command::Capture {
                payment: args.id(0, "pay_", "a payment")?,
                amount: args.amount(1)?,
            }
        }
        "void" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::Void {
                payment: args.id(0, "pay_", "a payment")?,
            }
        }
        "refund" => {
            let args = Args::split(spec, rest, &["reason"], &[])?;
            args.count(1, 2)?;
            Command::Refund {
                payment: args.id(0, "pay_", "a payment")?,
                amount: args.amount(1)?,
                reason: args.text("reason", 500)?,
            }
        }
        "show" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::Show {
                payment: args.id(0, "pay_", "a payment")?,
            }
        }
        "ls" => {
            let args = Args::split(spec, rest, &["status", "since", "limit"], &[])?;
            args.count(0, 0)?;
            let status = args
                .value("status")
                .map(|s| {
                    PaymentStatus::parse(&s).ok_or_else(|| {
                        let known: Vec<&str> =
                            PaymentStatus::ALL.iter().map(|s| s.as_str()).collect();
                        ParseError::new(
                            spec,
                            format!("unknown status `{s}`; use one of {}", known.join(", ")),
                        )
                    })
                })
                .transpose()?;
            let since = args
                .value("since")
                .map(|s| {
                    parse_duration(&s).ok_or_else(|| {
                        ParseError::new(
                            spec,
                            format!("`{s}` is not a duration like 30m, 12h or 1d"),
                        )
                    })
                })
                .transpose()?;
            let limit = match args.value("limit") {
                None => 20,
                Some(n) => n
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        ParseError::new(spec, format!("--limit is 1 to 100, not `{n}`"))
                    })?,
            };
            Command::Ls {
                status,
                since,
                limit,
            }
        }
        "find" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::Find {
                reference: args.positional[0].clone(),
            }
        }
        "link" => {
            let args = Args::split(
                spec,
                rest,
                &["ref", "expires", "email", "item"],
                &["partial"],
            )?;
            if let Some(id) = args.positional.first().filter(|p| p.starts_with("plink_")) {
                if args.positional.len() > 1 || !args.options.is_empty() {
                    return Err(ParseError::new(
                        spec,
                        "link plink_… takes nothing more: it shows that link",
                    ));
                }
                return Ok(Some(Command::LinkDetails {
                    link: checked_id(spec, id, "plink_", "a payment link")?,
                }));
            }
            let item_texts = args.values("item");
            let (money, items) = if item_texts.is_empty() {
                args.count(2, 2)?;
                (args.money()?, Vec::new())
            } else {
                args.count(1, 1).map_err(|_| {
                    ParseError::new(
                        spec,
                        "with --item, give only the currency: the amount is the items' sum",
                    )
                })?;
                let currency = Currency::parse(&args.positional[0]).map_err(|e| {
                    ParseError::new(spec, format!("{e}; use a code such as USD, BDT or MNT"))
                })?;
                let items = item_texts
                    .iter()
                    .map(|text| link_item(spec, text, currency))
                    .collect::<Result<Vec<_>, _>>()?;
                let total = items.iter().try_fold(0i64, |sum, item| {
                    item.unit
                        .amount()
                        .checked_mul(i64::from(item.quantity))
                        .and_then(|line| sum.checked_add(line))
                });
                let money = total
                    .and_then(|t| Money::new(t, currency).ok())
                    .ok_or_else(|| ParseError::new(spec, "the items add up to too much"))?;
                (money, items)
            };
            let expires = match args.value("expires") {
                None => LINK_EXPIRES_DEFAULT,
                Some(text) => parse_duration(&text)
                    .filter(|s| (LINK_EXPIRES_MIN..=LINK_EXPIRES_MAX).contains(s))
                    .ok_or_else(|| {
                        ParseError::new(spec, format!("--expires is 1h to 180d, not `{text}`"))
                    })?,
            };
            let email = args.text("email", 254)?;
            if let Some(email) = &email
                && (!email.contains('@') || email.contains(char::is_whitespace))
            {
                return Err(ParseError::new(
                    spec,
                    format!("`{email}` is not an email address"),
                ));
            }
            Command::Link {
                money,
                items,
                reference: args.text("ref", 100)?,
                expires,
                email,
                partial: args.switch("partial"),
            }
        }
        "report" => {
            let args = Args::split(spec, rest, &[], &["json"])?;
            args.count(2, 2)?;
            if args.positional[0] != "settlement" {
                return Err(ParseError::new(
                    spec,
                    format!(
                        "unknown report `{}`; use report settlement stl_…",
                        args.positional[0]
                    ),
                ));
            }
            Command::Report {
                settlement: args.id(1, "stl_", "a settlement")?,
                json: args.switch("json"),
            }
        }
        "payouts" => {
            let args = Args::split(spec, rest, &["status"], &[])?;
            args.count(0, 0)?;
            let status = args.value("status");
            const STATUSES: [&str; 7] = [
                "requires_approval",
                "pending",
                "in_transit",
                "paid",
                "failed",
                "canceled",
                "returned",
            ];
            if let Some(status) = &status
                && !STATUSES.contains(&status.as_str())
            {
                return Err(ParseError::new(
                    spec,
                    format!("unknown status `{status}`; use {}", STATUSES.join(", ")),
                ));
            }
            Command::Payouts { status }
        }
        "payout" => {
            let args = Args::split(
                spec,
                rest,
                &[
                    "account",
                    "bank-code",
                    "holder",
                    "country",
                    "ref",
                    "purpose",
                ],
                &[],
            )?;
            if args
                .positional
                .first()
                .is_some_and(|p| p.starts_with("po_"))
            {
                args.count(1, 1)?;
                Command::PayoutDetails {
                    payout: args.id(0, "po_", "a payout")?,
                }
            } else {
                args.count(2, 2)?;
                let money = args.money()?;
                let needed = |name: &str, max: usize| -> Result<String, ParseError> {
                    args.text(name, max)?
                        .filter(|v| !v.is_empty())
                        .ok_or_else(|| ParseError::new(spec, format!("missing --{name}")))
                };
                Command::PayOut {
                    money,
                    account: needed("account", 40)?,
                    bank_code: needed("bank-code", 20)?,
                    holder: needed("holder", 100)?,
                    country: needed("country", 2)?,
                    reference: needed("ref", 64)?,
                    purpose: args
                        .text("purpose", 140)?
                        .unwrap_or_else(|| "Payout".to_string()),
                }
            }
        }
        "approve" | "cancel-payout" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            let payout = args.id(0, "po_", "a payout")?;
            if spec.name == "approve" {
                Command::Approve { payout }
            } else {
                Command::CancelPayout { payout }
            }
        }
        "links" => {
            let args = Args::split(spec, rest, &["status"], &[])?;
            args.count(0, 0)?;
            let status = args.value("status");
            if let Some(status) = &status
                && !["open", "partially_paid", "paid", "expired", "canceled"]
                    .contains(&status.as_str())
            {
                return Err(ParseError::new(
                    spec,
                    format!(
                        "unknown status `{status}`; use open, partially_paid, paid, expired or canceled"
                    ),
                ));
            }
            Command::Links { status }
        }
        "send" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::Send {
                link: args.id(0, "plink_", "a payment link")?,
            }
        }
        "cancel-link" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::CancelLink {
                link: args.id(0, "plink_", "a payment link")?,
            }
        }
        "events" => {
            let args = Args::split(spec, rest, &["type"], &[])?;
            args.count(0, 0)?;
            let kind = args.value("type");
            if let Some(kind) = &kind
                && kasse_core::api::EventType::parse(kind).is_none()
            {
                return Err(ParseError::new(
                    spec,
                    format!(
                        "unknown event type `{kind}`; use one of {}",
                        kasse_core::api::EventType::ALL
                            .map(kasse_core::api::EventType::as_str)
                            .join(", ")
                    ),
                ));
            }
            Command::Events { kind }
        }
        "sslcommerz-credentials" => {
            let args = Args::split(spec, rest, &[], &["replace"])?;
            args.count(0, 0)?;
            if !args.switch("replace") {
                return Err(ParseError::new(
                    spec,
                    "this replaces the store's current credentials, which stop working; add --replace",
                ));
            }
            Command::SslcommerzCredentials
        }
        "resend" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::Resend {
                event: args.id(0, "evt_", "an event")?,
            }
        }
        "customers" => {
            let args = Args::split(spec, rest, &["email"], &[])?;
            args.count(0, 0)?;
            Command::Customers {
                email: args.text("email", 254)?,
            }
        }
        "customer" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::Customer {
                customer: args.id(0, "cus_", "a customer")?,
            }
        }
        "subscriptions" => {
            let args = Args::split(spec, rest, &["customer"], &[])?;
            args.count(0, 0)?;
            Command::Subscriptions {
                customer: args
                    .value("customer")
                    .map(|c| checked_id(spec, &c, "cus_", "a customer"))
                    .transpose()?,
            }
        }
        "cancel-subscription" => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(1, 1)?;
            Command::CancelSubscription {
                subscription: args.id(0, "sub_", "a subscription")?,
            }
        }
        name => {
            let args = Args::split(spec, rest, &[], &[])?;
            args.count(0, 0)?;
            match name {
                "whoami" => Command::Whoami,
                "balance" => Command::Balance,
                "settlements" => Command::Settlements,
                "logout" => Command::Logout,
                _ => Command::Clear,
            }
        }
    };
    Ok(Some(command))
}
