//! Email: the SMTP connection (always TLS: STARTTLS on `smtp://`, TLS from
//! the first byte on `smtps://`), and the emails Kasse writes, in English,
//! Bangla and Mongolian, as plain text and HTML. No email ever carries card
//! data: only amounts, references and the link to pay.

use std::path::PathBuf;
use std::time::Duration;

use kasse_core::Locale;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use url::Url;

use crate::html::escape;

/// How Kasse reaches its mail server, from `KASSE_SMTP_URL`,
/// `KASSE_MAIL_FROM` and `KASSE_SMTP_CA_FILE`.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://user:password@host:587` (STARTTLS, required) or
    /// `smtps://user:password@host:465`.
    pub url: String,
    /// `Shop payments <billing@example.com>`.
    pub from: String,
    /// PEM certificates trusted for the mail server besides the web's roots.
    pub ca_file: Option<PathBuf>,
    /// The first retry after a `4xx` waits this long, each next one twice
    /// as long, up to `retry_max`; after `give_up_after` an email fails.
    pub retry_base: Duration,
    pub retry_max: Duration,
    pub give_up_after: Duration,
    /// How often the worker looks for due emails.
    pub poll_interval: Duration,
    /// One attempt may take this long.
    pub timeout: Duration,
}

impl MailConfig {
    pub fn new(url: String, from: String) -> Self {
        Self {
            url,
            from,
            ca_file: None,
            retry_base: Duration::from_secs(60),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(3 * 24 * 3600),
            poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Sends email through the configured server.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The right-hand side of every `Message-ID`.
    domain: String,
    pub config: MailConfig,
}

/// Why an email did not go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Worth trying again later: a `4xx`, or no answer at all.
    pub transient: bool,
    pub reply: String,
}

impl Mailer {
    /// A mailer for `config`; `domain` names this Kasse in `Message-ID`s
    /// and its greeting.
    pub fn new(config: MailConfig, domain: &str) -> anyhow::Result<Self> {
        let url = Url::parse(&config.url)
            .map_err(|e| anyhow::anyhow!("KASSE_SMTP_URL is not a URL: {e}"))?;
        let host = url
            .host_str()
            .ok_or_else(|| anyhow::anyhow!("KASSE_SMTP_URL names no host"))?
            .to_string();
        let mut tls = TlsParameters::builder(host.clone());
        if let Some(file) = &config.ca_file {
            let pem = std::fs::read(file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            tls = tls.add_root_certificate(Certificate::from_pem(&pem)?);
        }
        let tls = tls.build_rustls()?;
        let (tls, port) = match url.scheme() {
            "smtp" => (Tls::Required(tls), 587),
            "smtps" => (Tls::Wrapper(tls), 465),
            other => anyhow::bail!(
                "KASSE_SMTP_URL must be smtp:// (STARTTLS) or smtps://, not {other}://: Kasse sends no mail in clear"
            ),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(url.port().unwrap_or(port))
            .tls(tls)
            .timeout(Some(config.timeout))
            .hello_name(ClientId::Domain(domain.to_string()));
        if !url.username().is_empty() {
            let decode = |s: &str| {
                percent_decode(s).ok_or_else(|| {
                    anyhow::anyhow!("KASSE_SMTP_URL's credentials are badly escaped")
                })
            };
            builder = builder.credentials(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or(""))?,
            ));
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("KASSE_MAIL_FROM is not an address: {e}"))?;
        Ok(Self {
            transport: builder.build(),
            from,
            domain: domain.to_string(),
            config,
        })
    }

    /// The `Message-ID` of notification `id`: the same on every attempt.
    pub fn message_id(domain: &str, id: &str) -> String {
        format!("<{id}@{domain}>")
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Sends `email` to `to` with `message_id`; the server's reply.
    pub async fn send(&self, to: &str, message_id: &str, email: &Email) -> Result<String, Refused> {
        let to: Mailbox = to.parse().map_err(|e| Refused {
            transient: false,
            reply: format!("not an address: {e}"),
        })?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .message_id(Some(message_id.to_string()))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| Refused {
                transient: false,
                reply: format!("could not build the email: {e}"),
            })?;
        match self.transport.send(message).await {
            Ok(response) => Ok(format!(
                "{} {}",
                response.code(),
                response.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => Err(Refused {
                transient: !e.is_permanent(),
                reply: match e.status() {
                    Some(code) => format!("{code} {e}"),
                    None => e.to_string(),
                },
            }),
        }
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// An email as written: its subject and both bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What an email about a payment link says.
pub struct LinkEmail<'a> {
    pub locale: Locale,
    pub merchant: &'a str,
    pub customer_name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub invoice_number: Option<&'a str>,
    /// Formatted amounts.
    pub total: String,
    pub due: String,
    /// The expiry, as a date in the link's zone.
    pub valid_until: String,
    pub url: &'a str,
    pub invoice_url: Option<String>,
}

/// What a receipt says.
pub struct ReceiptEmail<'a> {
    pub locale: Locale,
    pub merchant: &'a str,
    pub customer_name: Option<&'a str>,
    pub paid: String,
    pub payment_reference: &'a str,
    /// Formatted, or none when nothing more is due.
    pub still_due: Option<String>,
    pub url: Option<&'a str>,
}

/// The words of the emails, in one language.
struct Words {
    hello: &'static str,
    hello_name: &'static str,
    request_subject: &'static str,
    invoice_subject: &'static str,
    reminder_subject: &'static str,
    receipt_subject: &'static str,
    asks: &'static str,
    invoice_asks: &'static str,
    reminder_intro: &'static str,
    total: &'static str,
    due: &'static str,
    valid_until: &'static str,
    pay_now: &'static str,
    view_invoice: &'static str,
    received: &'static str,
    reference: &'static str,
    still_due: &'static str,
    nothing_due: &'static str,
    no_card: &'static str,
}

fn words(locale: Locale) -> &'static Words {
    match locale {
        Locale::En => &Words {
            hello: "Hello,",
            hello_name: "Hello {name},",
            request_subject: "{merchant}: {amount} to pay",
            invoice_subject: "Invoice {number} from {merchant}",
            reminder_subject: "Reminder: {amount} to pay to {merchant}",
            receipt_subject: "Receipt from {merchant}: {amount} paid",
            asks: "{merchant} asks you to pay {amount}.",
            invoice_asks: "{merchant} sends you invoice {number} for {amount}.",
            reminder_intro: "This is a reminder that {amount} is still to pay to {merchant}.",
            total: "Total",
            due: "Amount due",
            valid_until: "You can pay until {date}.",
            pay_now: "Pay now",
            view_invoice: "View or print the invoice",
            received: "{merchant} received your payment of {amount}. Thank you.",
            reference: "Payment reference",
            still_due: "Still to pay",
            nothing_due: "Nothing more is due.",
            no_card: "This email never asks for your card number. Pay only on the page the link opens.",
        },
        Locale::Bn => &Words {
            hello: "প্রিয় গ্রাহক,",
            hello_name: "প্রিয় {name},",
            request_subject: "{merchant}: {amount} পরিশোধ করুন",
            invoice_subject: "{merchant} থেকে ইনভয়েস {number}",
            reminder_subject: "স্মরণ করিয়ে দিচ্ছি: {merchant}-কে {amount} পরিশোধ বাকি",
            receipt_subject: "{merchant} থেকে রসিদ: {amount} পরিশোধিত",
            asks: "{merchant} আপনাকে {amount} পরিশোধ করতে অনুরোধ করছে।",
            invoice_asks: "{merchant} আপনাকে {amount}-এর ইনভয়েস {number} পাঠিয়েছে।",
            reminder_intro: "স্মরণ করিয়ে দিচ্ছি যে {merchant}-কে এখনও {amount} পরিশোধ করা বাকি।",
            total: "মোট",
            due: "পরিশোধযোগ্য পরিমাণ",
            valid_until: "আপনি {date} পর্যন্ত পরিশোধ করতে পারবেন।",
            pay_now: "এখনই পরিশোধ করুন",
            view_invoice: "ইনভয়েস দেখুন বা প্রিন্ট করুন",
            received: "{merchant} আপনার {amount} পেমেন্ট পেয়েছে। ধন্যবাদ।",
            reference: "পেমেন্ট রেফারেন্স",
            still_due: "এখনও বাকি",
            nothing_due: "আর কিছু বাকি নেই।",
            no_card: "এই ইমেইল কখনও আপনার কার্ড নম্বর চায় না। শুধু লিংকটি যে পেজ খোলে সেখানেই পরিশোধ করুন।",
        },
        Locale::Mn => &Words {
            hello: "Сайн байна уу,",
            hello_name: "Сайн байна уу, {name},",
            request_subject: "{merchant}: {amount} төлөх",
            invoice_subject: "{merchant}-с нэхэмжлэх {number}",
            reminder_subject: "Сануулга: {merchant}-д {amount} төлөх",
            receipt_subject: "{merchant}-н баримт: {amount} төлөгдсөн",
            asks: "{merchant} танаас {amount} төлөхийг хүсэж байна.",
            invoice_asks: "{merchant} танд {amount}-н нэхэмжлэх {number} илгээлээ.",
            reminder_intro: "{merchant}-д {amount} төлөх үлдсэнийг сануулж байна.",
            total: "Нийт",
            due: "Төлөх дүн",
            valid_until: "Та {date} хүртэл төлж болно.",
            pay_now: "Одоо төлөх",
            view_invoice: "Нэхэмжлэхийг харах эсвэл хэвлэх",
            received: "{merchant} таны {amount} төлбөрийг хүлээн авлаа. Баярлалаа.",
            reference: "Төлбөрийн дугаар",
            still_due: "Үлдэгдэл",
            nothing_due: "Өөр төлөх зүйлгүй.",
            no_card: "Энэ имэйл таны картын дугаарыг хэзээ ч асуудаггүй. Зөвхөн холбоосоор нээгдэх хуудсанд төлнө үү.",
        },
    }
}

/// Fills `{name}` placeholders in `template`.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_string(), |text, (key, value)| {
            text.replace(&format!("{{{key}}}"), value)
        })
}

fn greeting(w: &Words, name: Option<&str>) -> String {
    match name {
        Some(name) => fill(w.hello_name, &[("name", name)]),
        None => w.hello.to_string(),
    }
}

/// Lays out an email: paragraphs, then a button, then small print.
fn layout(
    subject: String,
    paragraphs: &[String],
    action: Option<(&str, &str)>,
    extra: Option<(&str, &str)>,
    footer: &str,
) -> Email {
    let mut text = paragraphs.join("\n\n");
    let mut html = String::from(
        "<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5;color:#1a1a1a\">",
    );
    for p in paragraphs {
        html.push_str(&format!("<p>{}</p>", escape(p).replace('\n', "<br>")));
    }
    for (label, url) in action.iter().chain(extra.iter()) {
        text.push_str(&format!("\n\n{label}: {url}"));
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"display:inline-block;padding:10px 18px;background:#1a56db;color:#fff;border-radius:6px;text-decoration:none\">{}</a></p>",
            escape(url),
            escape(label)
        ));
    }
    text.push_str(&format!("\n\n{footer}\n"));
    html.push_str(&format!(
        "<p style=\"color:#666;font-size:13px\">{}</p></body></html>",
        escape(footer)
    ));
    Email {
        subject,
        text,
        html,
    }
}

/// The email that brings a link (or an invoice), or reminds of it.
pub fn link_email(e: &LinkEmail<'_>, reminder: bool) -> Email {
    let w = words(e.locale);
    let values = [
        ("merchant", e.merchant),
        ("amount", e.due.as_str()),
        ("number", e.invoice_number.unwrap_or("")),
        ("date", e.valid_until.as_str()),
    ];
    let subject = match (reminder, e.invoice_number) {
        (true, _) => fill(w.reminder_subject, &values),
        (false, Some(_)) => fill(w.invoice_subject, &values),
        (false, None) => fill(w.request_subject, &values),
    };
    let intro = match (reminder, e.invoice_number) {
        (true, _) => fill(w.reminder_intro, &values),
        (false, Some(_)) => fill(w.invoice_asks, &values),
        (false, None) => fill(w.asks, &values),
    };
    let mut paragraphs = vec![greeting(w, e.customer_name), intro];
    if let Some(description) = e.description {
        paragraphs.push(description.to_string());
    }
    paragraphs.push(format!("{}: {}\n{}: {}", w.total, e.total, w.due, e.due));
    paragraphs.push(fill(w.valid_until, &values));
    layout(
        subject,
        &paragraphs,
        Some((w.pay_now, e.url)),
        e.invoice_url.as_deref().map(|u| (w.view_invoice, u)),
        w.no_card,
    )
}

/// The receipt after a payment.
pub fn receipt_email(e: &ReceiptEmail<'_>) -> Email {
    let w = words(e.locale);
    let values = [("merchant", e.merchant), ("amount", e.paid.as_str())];
    let mut paragraphs = vec![
        greeting(w, e.customer_name),
        fill(w.received, &values),
        format!("{}: {}", w.reference, e.payment_reference),
    ];
    paragraphs.push(match &e.still_due {
        Some(due) => format!("{}: {due}", w.still_due),
        None => w.nothing_due.to_string(),
    });
    layout(
        fill(w.receipt_subject, &values),
        &paragraphs,
        e.url
            .filter(|_| e.still_due.is_some())
            .map(|u| (w.pay_now, u)),
        None,
        w.no_card,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(locale: Locale, invoice: Option<&'static str>) -> LinkEmail<'static> {
        LinkEmail {
            locale,
            merchant: "Tea & <Co>",
            customer_name: Some("Ada"),
            description: Some("Two boxes"),
            invoice_number: invoice,
            total: "$25.00".into(),
            due: "$15.00".into(),
            valid_until: "2026-12-31".into(),
            url: "https://pay.example/l/tok",
            invoice_url: invoice.map(|_| "https://pay.example/l/tok/invoice".to_string()),
        }
    }

    #[test]
    fn a_link_email_names_the_amount_due_and_the_link_in_both_bodies_and_escapes_html() {
        let email = link_email(&link(Locale::En, None), false);
        assert_eq!(email.subject, "Tea & <Co>: $15.00 to pay");
        for body in [&email.text, &email.html] {
            assert!(body.contains("$15.00"), "{body}");
            assert!(body.contains("https://pay.example/l/tok"), "{body}");
        }
        assert!(email.html.contains("Tea &amp; &lt;Co&gt;"));
        assert!(!email.html.contains("<Co>"));
    }

    #[test]
    fn each_language_has_its_own_subject_and_an_invoice_names_its_number() {
        let subjects: Vec<String> = Locale::ALL
            .iter()
            .map(|l| link_email(&link(*l, Some("INV-2026-0007")), false).subject)
            .collect();
        for subject in &subjects {
            assert!(subject.contains("INV-2026-0007"), "{subject}");
        }
        assert_eq!(
            subjects
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            3
        );
        let reminder = link_email(&link(Locale::Bn, None), true);
        assert!(reminder.subject.starts_with("স্মরণ"), "{}", reminder.subject);
        assert!(reminder.text.contains("2026-12-31"));
    }

    #[test]
    fn a_receipt_says_what_is_still_due_or_that_nothing_is() {
        let mut receipt = ReceiptEmail {
            locale: Locale::Mn,
            merchant: "Shop",
            customer_name: None,
            paid: "₮10,000".into(),
            payment_reference: "pay_123",
            still_due: Some("₮5,000".into()),
            url: Some("https://pay.example/l/tok"),
        };
        let partly = receipt_email(&receipt);
        assert!(partly.text.contains("Үлдэгдэл: ₮5,000"), "{}", partly.text);
        assert!(partly.text.contains("pay_123"));
        assert!(partly.text.contains("https://pay.example/l/tok"));
        receipt.still_due = None;
        let fully = receipt_email(&receipt);
        assert!(fully.text.contains("Өөр төлөх зүйлгүй."));
        assert!(!fully.text.contains("https://pay.example/l/tok"));
    }

    #[test]
    fn credentials_in_the_url_are_unescaped() {
        assert_eq!(percent_decode("p%40ss%2Fw").as_deref(), Some("p@ss/w"));
        assert_eq!(percent_decode("bad%4"), None);
    }
}
