//! The console on the page: a scrollback, one prompt, and the keys a
//! terminal has (Enter, ↑/↓, Tab, Ctrl+L, Ctrl+C).

use kasse_core::api::{
    CaptureMethod, CardInput, CheckoutSession, CreateCheckoutSession, CreatePayment, CreateRefund,
    EventDetail, EventList, Payment, PaymentList, Refund, RefundList, StaffSession,
};
use kasse_core::error::ErrorCode;
use kasse_core::{CardNumber, Cvc, Expiry, Money, PaymentStatus, Sensitive};
use leptos::html::{Div, Input};
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::KeyboardEvent;

use crate::api::{self, Failure};
use crate::command::{self, COMMANDS, Command};
use crate::complete::{Completion, complete};
use crate::format::{self, Span};
use crate::history::History;

/// Lines kept in the scrollback.
const SCROLLBACK: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
struct Line {
    id: u64,
    class: &'static str,
    spans: Vec<Span>,
}

/// A keyed payment being taken: what was asked so far.
#[derive(Debug, Clone, PartialEq)]
struct Draft {
    money: Money,
    reference: Option<String>,
    manual: bool,
    number: Option<CardNumber>,
    expiry: Option<Expiry>,
    cvc: Option<Sensitive<String>>,
}

/// A change that waits for y/N.
#[derive(Debug, Clone, PartialEq)]
enum Pending {
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
}

/// What the prompt is asking for.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
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
    fn prompt(&self, session: Option<&StaffSession>) -> String {
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
    fn secret(&self) -> bool {
        match self {
            Mode::Password { .. } => true,
            Mode::Card(d) => d.number.is_none() || (d.expiry.is_some() && d.cvc.is_none()),
            _ => false,
        }
    }
}

/// Everything the console holds; every field is a cheap handle.
#[derive(Clone, Copy)]
struct Term {
    lines: RwSignal<Vec<Line>>,
    next_id: StoredValue<u64>,
    mode: RwSignal<Mode>,
    session: RwSignal<Option<StaffSession>>,
    history: StoredValue<History>,
    /// Payment ids seen, for Tab.
    known: StoredValue<Vec<String>>,
    input: NodeRef<Input>,
}

impl Term {
    fn push(&self, class: &'static str, spans: Vec<Span>) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.lines.update(|lines| {
            lines.push(Line { id, class, spans });
            if lines.len() > SCROLLBACK {
                lines.drain(..lines.len() - SCROLLBACK);
            }
        });
    }

    fn say(&self, class: &'static str, text: impl Into<String>) {
        self.push(class, vec![Span::plain(text)]);
    }

    fn lines_of(&self, class: &'static str, lines: Vec<Vec<Span>>) {
        for spans in lines {
            self.push(class, spans);
        }
    }

    fn clear(&self) {
        self.lines.set(Vec::new());
    }

    fn csrf(&self) -> String {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.csrf_token.clone()))
            .unwrap_or_default()
    }

    fn remember(&self, ids: impl IntoIterator<Item = String>) {
        self.known.update_value(|known| {
            for id in ids {
                if !known.contains(&id) {
                    known.push(id);
                }
            }
        });
    }

    fn focus(&self) {
        if let Some(input) = self.input.get_untracked() {
            let _ = input.focus();
        }
    }

    /// Logged in: the prompt, the user's history, and ids to complete.
    fn start(&self, session: StaffSession) {
        self.say(
            "info",
            format!(
                "Logged in as {} ({}) for {}. Type help to see the commands.",
                session.email,
                session.role.as_str(),
                session.merchant_name
            ),
        );
        self.history
            .set_value(History::from_entries(load_history(&session.user_id)));
        self.session.set(Some(session));
        self.mode.set(Mode::Command);
        let term = *self;
        spawn_local(async move {
            if let Ok(list) = api::get::<PaymentList>("/v1/payments?limit=100").await {
                term.remember(list.data.into_iter().map(|p| p.id));
            }
        });
    }

    fn logged_out(&self, message: &str) {
        self.session.set(None);
        self.say("bad", message.to_string());
        self.mode.set(Mode::Email);
    }

    /// An API failure, plainly; a lost login goes back to the login prompt.
    fn failed(&self, failure: Failure) {
        if failure.logged_out() && self.session.get_untracked().is_some() {
            self.logged_out("Your login has ended. Log in again.");
        } else {
            self.say("bad", format!("error: {}", failure.message));
            self.back_to_prompt();
        }
    }

    fn back_to_prompt(&self) {
        let logged_in = self.session.with_untracked(Option::is_some);
        self.mode.set(if logged_in {
            Mode::Command
        } else {
            Mode::Email
        });
    }

    /// Runs a command's work with the prompt hidden, then brings it back.
    fn run(&self, work: impl std::future::Future<Output = Result<(), Failure>> + 'static) {
        let term = *self;
        self.mode.set(Mode::Busy);
        spawn_local(async move {
            match work.await {
                Ok(()) => {
                    if term.mode.get_untracked() == Mode::Busy {
                        term.back_to_prompt();
                    }
                }
                Err(failure) => term.failed(failure),
            }
        });
    }
}

/// A click brings the prompt back, unless it ended selecting text to copy
/// (a payment id, a link).
fn focus_unless_selecting(term: Term) {
    let selecting = web_sys::window()
        .and_then(|w| w.get_selection().ok().flatten())
        .is_some_and(|s| !s.is_collapsed());
    if !selecting {
        term.focus();
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn load_history(user_id: &str) -> Vec<String> {
    storage()
        .and_then(|s| s.get_item(&History::storage_key(user_id)).ok()?)
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default()
}

fn save_history(user_id: &str, history: &History) {
    if let Some(storage) = storage() {
        let json = serde_json::to_string(history.entries()).expect("strings serialise");
        let _ = storage.set_item(&History::storage_key(user_id), &json);
    }
}

/// The browser's (year, month) for expiry checks.
fn today() -> (u16, u8) {
    let now = js_sys::Date::new_0();
    (now.get_full_year() as u16, now.get_month() as u8 + 1)
}

#[component]
pub fn Terminal() -> impl IntoView {
    let term = Term {
        lines: RwSignal::new(Vec::new()),
        next_id: StoredValue::new(0),
        mode: RwSignal::new(Mode::Starting),
        session: RwSignal::new(None),
        history: StoredValue::new(History::default()),
        known: StoredValue::new(Vec::new()),
        input: NodeRef::new(),
    };
    let screen: NodeRef<Div> = NodeRef::new();

    term.say("info", "Kasse terminal");
    spawn_local(async move {
        match api::me().await {
            Ok(session) => term.start(session),
            Err(failure) if failure.logged_out() => {
                term.say("info", "Log in with your email and password.");
                term.mode.set(Mode::Email);
            }
            Err(failure) => {
                term.say("bad", format!("error: {}", failure.message));
                term.mode.set(Mode::Email);
            }
        }
    });

    // Follow the output, and keep the prompt focused when it comes back.
    Effect::new(move |_| {
        term.lines.track();
        let mode = term.mode.get();
        if let Some(screen) = screen.get() {
            screen.set_scroll_top(screen.scroll_height());
        }
        if mode != Mode::Busy && mode != Mode::Starting {
            term.focus();
        }
    });

    let on_key = move |ev: KeyboardEvent| on_key(term, ev);
    let prompt = move || term.mode.with(|m| m.prompt(term.session.get().as_ref()));
    let hidden = move || term.mode.with(|m| matches!(m, Mode::Busy | Mode::Starting));
    let input_type = move || {
        if term.mode.with(Mode::secret) {
            "password"
        } else {
            "text"
        }
    };
    let autocomplete = move || match term.mode.get() {
        Mode::Email => "username",
        Mode::Password { .. } => "current-password",
        _ => "off",
    };

    view! {
        <main id="kasse-terminal" class="terminal" on:click=move |_| focus_unless_selecting(term)>
            <div class="screen" id="kasse-screen" node_ref=screen role="log" aria-live="polite">
                <For each=move || term.lines.get() key=|line| line.id let:line>
                    <div class=format!("line {}", line.class)>
                        {line
                            .spans
                            .into_iter()
                            .map(|s| view! { <span class=s.class>{s.text}</span> })
                            .collect_view()}
                    </div>
                </For>
                <label class="prompt" class:hidden=hidden>
                    <span class="ps1" id="kasse-prompt">{prompt}</span>
                    <input
                        id="kasse-input"
                        node_ref=term.input
                        type=input_type
                        autocomplete=autocomplete
                        autocapitalize="off"
                        spellcheck="false"
                        aria-label=prompt
                        on:keydown=on_key
                    />
                </label>
            </div>
        </main>
    }
}

fn on_key(term: Term, ev: KeyboardEvent) {
    let Some(input) = term.input.get_untracked() else {
        return;
    };
    let key = ev.key();
    let ctrl = ev.ctrl_key() || ev.meta_key();
    let mode = term.mode.get_untracked();
    match (key.as_str(), ctrl) {
        ("Enter", _) => {
            ev.prevent_default();
            let text = input.value();
            input.set_value("");
            submit(term, mode, text);
        }
        ("l" | "L", true) => {
            ev.prevent_default();
            term.clear();
        }
        ("c" | "C", true) if input.selection_start() == input.selection_end() => {
            ev.prevent_default();
            let shown = if mode.secret() {
                String::new()
            } else {
                input.value()
            };
            term.say(
                "echo",
                format!(
                    "{}{shown}^C",
                    mode.prompt(term.session.get_untracked().as_ref())
                ),
            );
            input.set_value("");
            match mode {
                Mode::Password { .. } => term.mode.set(Mode::Email),
                Mode::Card(_) | Mode::Confirm { .. } => {
                    term.say("dim", "Canceled.");
                    term.mode.set(Mode::Command);
                }
                _ => {}
            }
        }
        ("ArrowUp", false) if mode == Mode::Command => {
            ev.prevent_default();
            let current = input.value();
            if let Some(previous) = term
                .history
                .try_update_value(|h| h.back(&current).map(str::to_string))
                .flatten()
            {
                input.set_value(&previous);
            }
        }
        ("ArrowDown", false) if mode == Mode::Command => {
            ev.prevent_default();
            if let Some(next) = term
                .history
                .try_update_value(|h| h.forward().map(str::to_string))
                .flatten()
            {
                input.set_value(&next);
            }
        }
        ("Tab", false) if mode == Mode::Command => {
            ev.prevent_default();
            let known = term.known.get_value();
            match complete(&input.value(), &known) {
                Completion::Line(line) => input.set_value(&line),
                Completion::Choices(choices) => {
                    term.say(
                        "echo",
                        format!(
                            "{}{}",
                            mode.prompt(term.session.get_untracked().as_ref()),
                            input.value()
                        ),
                    );
                    term.say("dim", choices.join("  "));
                }
                Completion::None => {}
            }
        }
        _ => {}
    }
}

/// Enter: what the line means depends on what the prompt asked.
fn submit(term: Term, mode: Mode, text: String) {
    let prompt = mode.prompt(term.session.get_untracked().as_ref());
    match mode {
        Mode::Starting | Mode::Busy => {}
        Mode::Email => {
            term.say("echo", format!("{prompt}{text}"));
            let email = text.trim().to_string();
            if email.is_empty() {
                return;
            }
            term.mode.set(Mode::Password { email });
        }
        Mode::Password { email } => {
            term.say("echo", prompt);
            term.run(async move {
                let session = api::login(&email, text).await?;
                term.start(session);
                Ok(())
            });
        }
        Mode::Command => {
            term.say("echo", format!("{prompt}{text}"));
            run_line(term, &text);
        }
        Mode::Card(draft) => card_answer(term, draft, &prompt, text),
        Mode::Confirm { pending, .. } => {
            term.say("echo", format!("{prompt}{text}"));
            if matches!(text.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
                term.run(apply(term, pending));
            } else {
                term.say("dim", "Nothing was changed.");
                term.mode.set(Mode::Command);
            }
        }
    }
}

fn run_line(term: Term, text: &str) {
    let parsed = command::parse(text);
    if let (Ok(Some(_)), Some(session)) = (&parsed, term.session.get_untracked()) {
        term.history.update_value(|h| h.push(text));
        term.history
            .with_value(|h| save_history(&session.user_id, h));
    }
    match parsed {
        Ok(None) => {}
        Err(e) => {
            term.say("bad", format!("error: {}", e.message));
            if let Some(usage) = e.usage {
                term.say("dim", format!("usage: {usage}"));
            }
        }
        Ok(Some(command)) => execute(term, command),
    }
}

fn execute(term: Term, command: Command) {
    match command {
        Command::Help(None) => {
            let width = COMMANDS
                .iter()
                .map(|c| c.usage.chars().count())
                .max()
                .unwrap_or(0);
            for spec in COMMANDS {
                term.push(
                    "",
                    vec![
                        Span::styled(format!("{:<width$}  ", spec.usage), "id"),
                        Span::plain(spec.summary),
                    ],
                );
            }
            term.say("dim", "help <command> tells more. ↑/↓ history, Tab completes, Ctrl+C cancels, Ctrl+L clears.");
        }
        Command::Help(Some(spec)) => {
            term.push(
                "",
                vec![Span::styled(format!("usage: {}", spec.usage), "id")],
            );
            term.say("", spec.summary);
            if !spec.details.is_empty() {
                term.say("dim", spec.details);
            }
        }
        Command::Clear => term.clear(),
        Command::Whoami => {
            if let Some(s) = term.session.get_untracked() {
                term.say(
                    "",
                    format!(
                        "{} ({}) for {} ({})",
                        s.email,
                        s.role.as_str(),
                        s.merchant_name,
                        s.merchant_id
                    ),
                );
                term.say(
                    "dim",
                    format!(
                        "this login ends at {} unless used",
                        format::utc(s.expires_at)
                    ),
                );
            }
        }
        Command::Logout => {
            let csrf = term.csrf();
            term.run(async move {
                api::logout(&csrf).await?;
                term.clear();
                term.logged_out("Logged out.");
                Ok(())
            });
        }
        Command::Charge {
            money,
            reference,
            manual,
        } => {
            term.say(
                "info",
                format!(
                    "{} {money}, card not present. Ctrl+C cancels.",
                    if manual { "Authorising" } else { "Charging" }
                ),
            );
            term.mode.set(Mode::Card(Draft {
                money,
                reference,
                manual,
                number: None,
                expiry: None,
                cvc: None,
            }));
        }
        Command::Capture { payment, amount } => ask(term, payment, amount, |p, amount| {
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
        }),
        Command::Void { payment } => ask(term, payment, None, |p, _| {
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
        }),
        Command::Refund {
            payment,
            amount,
            reason,
        } => ask(term, payment, amount, move |p, amount| {
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
        }),
        Command::Show { payment } => term.run(async move {
            let p: Payment = api::get(&format!("/v1/payments/{payment}")).await?;
            let refunds: RefundList =
                api::get(&format!("/v1/refunds?payment_id={payment}")).await?;
            let events: EventList =
                api::get(&format!("/v1/events?payment={payment}&limit=100")).await?;
            term.lines_of("", format::payment_details(&p, &refunds.data, &events.data));
            Ok(())
        }),
        Command::Ls {
            status,
            since,
            limit,
        } => {
            let mut query = format!("limit={limit}");
            if let Some(status) = status {
                query.push_str(&format!("&status={}", status.as_str()));
            }
            if let Some(since) = since {
                let now = (js_sys::Date::now() / 1000.0) as i64;
                query.push_str(&format!("&created_gte={}", now - since));
            }
            list_payments(term, query);
        }
        Command::Find { reference } => {
            let query = format!(
                "limit=100&order_reference={}",
                js_sys::encode_uri_component(&reference)
            );
            list_payments(term, query);
        }
        Command::Link {
            money,
            reference,
            expires,
        } => {
            let origin = term
                .session
                .with_untracked(|s| s.as_ref().and_then(|s| s.merchant_origins.first().cloned()));
            let Some(origin) = origin else {
                term.say(
                    "bad",
                    "error: this merchant has no website origin for customers to return to.",
                );
                return;
            };
            let csrf = term.csrf();
            term.run(async move {
                let body = CreateCheckoutSession {
                    amount: money.amount(),
                    currency: money.currency().code().to_string(),
                    success_url: format!("{origin}/"),
                    cancel_url: format!("{origin}/"),
                    order_reference: reference,
                    expires_in_seconds: Some(expires),
                    ..CreateCheckoutSession::default()
                };
                let session: CheckoutSession =
                    api::post("/v1/checkout/sessions", &csrf, Some(&body)).await?;
                term.say(
                    "ok",
                    format!(
                        "Payment link for {money}, payable until {}:",
                        format::utc(session.expires_at)
                    ),
                );
                term.push("", vec![Span::styled(session.url.clone(), "link")]);
                if let Some(qr) = format::qr_lines(&session.url) {
                    for line in qr {
                        term.say("qr", line);
                    }
                }
                Ok(())
            });
        }
        Command::Events { kind } => term.run(async move {
            let mut path = "/v1/events?limit=20".to_string();
            if let Some(kind) = kind {
                path.push_str(&format!("&type={kind}"));
            }
            let events: EventList = api::get(&path).await?;
            if events.data.is_empty() {
                term.say("dim", "No events.");
            } else {
                term.lines_of("", format::event_table(&events.data));
            }
            Ok(())
        }),
        Command::Resend { event } => {
            let csrf = term.csrf();
            term.run(async move {
                let detail: EventDetail =
                    api::post(&format!("/v1/events/{event}/resend"), &csrf, None::<&()>).await?;
                term.say(
                    "ok",
                    format!(
                        "{} will be delivered again to {} destination(s).",
                        detail.event.id,
                        detail.deliveries.len()
                    ),
                );
                Ok(())
            });
        }
    }
}

fn list_payments(term: Term, query: String) {
    term.run(async move {
        let list: PaymentList = api::get(&format!("/v1/payments?{query}")).await?;
        if list.data.is_empty() {
            term.say("dim", "No payments.");
            return Ok(());
        }
        term.remember(list.data.iter().map(|p| p.id.clone()));
        term.lines_of("", format::payment_table(&list.data));
        if list.has_more {
            term.say("dim", "More are older; use --limit or --since.");
        }
        Ok(())
    });
}

/// Reads the payment, turns the amount into its currency's minor units,
/// and asks y/N before the change.
fn ask(
    term: Term,
    payment: String,
    amount: Option<String>,
    question: impl FnOnce(&Payment, Option<i64>) -> (String, Pending) + 'static,
) {
    term.run(async move {
        let p: Payment = api::get(&format!("/v1/payments/{payment}")).await?;
        term.remember([p.id.clone()]);
        let amount = match amount {
            None => None,
            Some(text) => {
                let currency = kasse_core::Currency::parse(&p.currency).map_err(|e| Failure {
                    status: 0,
                    code: Some(ErrorCode::InvalidCurrency),
                    message: e.to_string(),
                })?;
                match Money::parse_decimal(&text, currency) {
                    Ok(money) => Some(money.amount()),
                    Err(e) => {
                        term.say("bad", format!("error: {e}"));
                        return Ok(());
                    }
                }
            }
        };
        let (question, pending) = question(&p, amount);
        term.mode.set(Mode::Confirm { question, pending });
        Ok(())
    });
}

async fn apply(term: Term, pending: Pending) -> Result<(), Failure> {
    let csrf = term.csrf();
    match pending {
        Pending::Capture { payment, amount } => {
            let body = kasse_core::api::CapturePayment { amount };
            let p: Payment = api::post(
                &format!("/v1/payments/{payment}/capture"),
                &csrf,
                Some(&body),
            )
            .await?;
            say_payment(term, "captured", &p);
        }
        Pending::Void { payment } => {
            let p: Payment =
                api::post(&format!("/v1/payments/{payment}/void"), &csrf, None::<&()>).await?;
            say_payment(term, "voided", &p);
        }
        Pending::Refund {
            payment,
            amount,
            reason,
        } => {
            let body = CreateRefund {
                payment_id: payment,
                amount,
                reason,
            };
            let r: Refund = api::post("/v1/refunds", &csrf, Some(&body)).await?;
            term.push(
                "",
                vec![
                    Span::styled("refunded ", "back"),
                    Span::plain(format!("{} ", format::amount(r.amount, &r.currency))),
                    Span::styled(r.id, "id"),
                    Span::plain(format!(" of {}", r.payment_id)),
                ],
            );
        }
    }
    Ok(())
}

fn say_payment(term: Term, verb: &str, p: &Payment) {
    term.remember([p.id.clone()]);
    term.push(
        "",
        vec![
            Span::styled(format!("{verb} "), format::status_class(p.status)),
            Span::styled(p.id.clone(), "id"),
            Span::plain(format!("  {}  ", format::amount(p.amount, &p.currency))),
            Span::styled(p.status.as_str(), format::status_class(p.status)),
            Span::plain(format!("  {}", format::card(p))),
        ],
    );
}

/// One answer to the card questions; a wrong one is asked again.
fn card_answer(term: Term, mut draft: Draft, prompt: &str, text: String) {
    if draft.number.is_none() {
        match CardNumber::parse(&text) {
            Ok(number) => {
                term.say("echo", format!("{prompt}{number}"));
                draft.number = Some(number);
            }
            Err(e) => {
                term.say("echo", prompt.to_string());
                term.say("bad", format!("error: {e}"));
            }
        }
    } else if draft.expiry.is_none() {
        term.say("echo", format!("{prompt}{text}"));
        match Expiry::parse(&text, today()) {
            Ok(expiry) => draft.expiry = Some(expiry),
            Err(e) => term.say("bad", format!("error: {e}")),
        }
    } else if draft.cvc.is_none() {
        term.say("echo", format!("{prompt}•••"));
        let brand = draft.number.as_ref().map(CardNumber::brand);
        match Cvc::parse(&text, brand) {
            Ok(_) => draft.cvc = Some(Sensitive(text.trim().to_string())),
            Err(e) => term.say("bad", format!("error: {e}")),
        }
    } else {
        term.say("echo", format!("{prompt}{text}"));
        let name = Some(text.trim().to_string()).filter(|n| !n.is_empty());
        charge(term, draft, name);
        return;
    }
    term.mode.set(Mode::Card(draft));
}

fn charge(term: Term, draft: Draft, name: Option<String>) {
    let (Some(number), Some(expiry), Some(cvc)) = (draft.number, draft.expiry, draft.cvc) else {
        return;
    };
    let body = CreatePayment {
        amount: draft.money.amount(),
        currency: draft.money.currency().code().to_string(),
        card: CardInput {
            number: Sensitive(number.expose_digits().to_string()),
            exp_month: expiry.month,
            exp_year: expiry.year,
            cvc,
            name,
        },
        order_reference: draft.reference,
        capture_method: if draft.manual {
            CaptureMethod::Manual
        } else {
            CaptureMethod::Automatic
        },
    };
    let csrf = term.csrf();
    term.run(async move {
        let p: Payment = api::post("/v1/payments", &csrf, Some(&body)).await?;
        match p.status {
            PaymentStatus::Failed => {
                term.remember([p.id.clone()]);
                let code = p.decline_code.map_or("declined", |c| c.as_str());
                term.push(
                    "",
                    vec![
                        Span::styled("declined ", "bad"),
                        Span::styled(p.id.clone(), "id"),
                        Span::plain(format!("  {}  ", format::amount(p.amount, &p.currency))),
                        Span::styled(code, "bad"),
                        Span::plain(format!(
                            "  {}",
                            p.decline_code.map_or("", |c| c.customer_message())
                        )),
                    ],
                );
            }
            PaymentStatus::RequiresCapture => say_payment(term, "authorised", &p),
            _ => say_payment(term, "charged", &p),
        }
        Ok(())
    });
}
