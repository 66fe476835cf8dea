//! The console on the page: a scrollback, one prompt, and the keys a
//! terminal has (Enter, ↑/↓, Tab, Ctrl+L, Ctrl+C).

use kasse_core::api::{
    BankAccountInput, CaptureMethod, CardInput, CreateCustomer, CreatePayment, CreatePaymentLink,
    CreatePayoutRequest, LineItem, LinkNotify, PartialPayments, Payment, PayoutDestinationInput,
};
use kasse_core::{PaymentStatus, Sensitive};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use web_sys::KeyboardEvent;

use crate::api::{self, Failure};
use crate::calls;
use crate::command::{self, COMMANDS, Command};
use crate::complete::{Completion, complete};
use crate::console::{Term, focus_unless_selecting, save_history, today};
use crate::flow::{self, CardNext, Draft, Mode, Pending};
use crate::format::{self, Span};
use crate::history::History;

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
            if flow::confirms(&text) {
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
            term.mode
                .set(Mode::Card(Draft::new(money, reference, manual)));
        }
        Command::ChargeSaved {
            money,
            customer,
            card,
            reference,
        } => term.run(async move {
            let found = calls::payment_method(&card).await?;
            if found.customer.as_deref() != Some(customer.as_str()) {
                term.say(
                    "bad",
                    format!("error: {card} is not a saved card of {customer}."),
                );
                return Ok(());
            }
            let (question, pending) =
                flow::charge_saved_question(money, customer, &found, reference);
            term.mode.set(Mode::Confirm { question, pending });
            Ok(())
        }),
        Command::Customers { email } => term.run(async move {
            let list = calls::customers(email.as_deref()).await?;
            if list.data.is_empty() {
                term.say("dim", "No customers.");
            } else {
                term.remember(list.data.iter().map(|c| c.id.clone()));
                term.lines_of("", format::customer_table(&list.data));
            }
            Ok(())
        }),
        Command::Customer { customer } => term.run(async move {
            let (c, cards, mandates, subscriptions) = calls::customer_details(&customer).await?;
            term.remember(
                cards
                    .iter()
                    .map(|m| m.id.clone())
                    .chain(subscriptions.iter().map(|s| s.id.clone())),
            );
            term.lines_of(
                "",
                format::customer_details(&c, &cards, &mandates, &subscriptions),
            );
            Ok(())
        }),
        Command::Subscriptions { customer } => term.run(async move {
            let list = calls::subscriptions(customer.as_deref()).await?;
            if list.data.is_empty() {
                term.say("dim", "No subscriptions.");
            } else {
                term.remember(list.data.iter().map(|s| s.id.clone()));
                term.lines_of("", format::subscription_table(&list.data));
            }
            Ok(())
        }),
        Command::CancelSubscription { subscription } => term.run(async move {
            let s = calls::subscription(&subscription).await?;
            let (question, pending) = flow::cancel_subscription_question(&s);
            term.mode.set(Mode::Confirm { question, pending });
            Ok(())
        }),
        Command::Capture { payment, amount } => ask(term, payment, amount, flow::capture_question),
        Command::Void { payment } => ask(term, payment, None, |p, _| flow::void_question(p)),
        Command::Refund {
            payment,
            amount,
            reason,
        } => ask(term, payment, amount, move |p, amount| {
            flow::refund_question(p, amount, reason)
        }),
        Command::Show { payment } => term.run(async move {
            let (p, refunds, events) = calls::payment_details(&payment).await?;
            term.lines_of("", format::payment_details(&p, &refunds, &events));
            Ok(())
        }),
        Command::Ls {
            status,
            since,
            limit,
        } => {
            let now = (js_sys::Date::now() / 1000.0) as i64;
            list_payments(term, flow::ls_query(status, since, limit, now));
        }
        Command::Find { reference } => list_payments(term, flow::find_query(&reference)),
        Command::Link {
            money,
            items,
            reference,
            expires,
            email,
            partial,
        } => {
            let csrf = term.csrf();
            term.run(async move {
                let now = (js_sys::Date::now() / 1000.0) as i64;
                let body = CreatePaymentLink {
                    amount: items.is_empty().then(|| money.amount()),
                    line_items: (!items.is_empty()).then(|| {
                        items
                            .iter()
                            .map(|i| LineItem {
                                name: i.name.clone(),
                                quantity: i.quantity,
                                unit_amount: i.unit.amount(),
                            })
                            .collect()
                    }),
                    currency: money.currency().code().to_string(),
                    customer_data: email.clone().map(|email| CreateCustomer {
                        email: Some(email),
                        ..CreateCustomer::default()
                    }),
                    merchant_reference: reference,
                    expires_at: Some(now + expires),
                    partial: partial.then_some(PartialPayments {
                        enabled: true,
                        minimum_first_amount: None,
                    }),
                    notify: email.is_some().then_some(LinkNotify { email: true }),
                    ..CreatePaymentLink::default()
                };
                let link = calls::create_link(&csrf, &body).await?;
                term.remember([link.id.clone()]);
                term.say(
                    "ok",
                    format!(
                        "Payment link {} for {money}{}, payable until {}:",
                        link.id,
                        if partial {
                            ", in parts if the customer likes"
                        } else {
                            ""
                        },
                        format::utc(link.expires_at)
                    ),
                );
                term.push("", vec![Span::styled(link.url.clone(), "link")]);
                if let Some(email) = &email {
                    term.say(
                        "info",
                        format!("Emailed to {email}; a receipt follows each payment."),
                    );
                }
                if let Some(qr) = format::qr_lines(&link.url) {
                    for line in qr {
                        term.say("qr", line);
                    }
                }
                Ok(())
            });
        }
        Command::Settlements => term.run(async move {
            let list = calls::settlements().await?;
            if list.data.is_empty() {
                term.say(
                    "dim",
                    "No settlements yet: a business day settles at its cut-off.",
                );
            } else {
                term.remember(list.data.iter().map(|s| s.id.clone()));
                term.lines_of("", format::settlement_table(&list.data));
            }
            Ok(())
        }),
        Command::Report { settlement, json } => term.run(async move {
            let (bytes, name, sha) = calls::settlement_report(&settlement, json).await?;
            save_file(
                &bytes,
                &name,
                if json { "application/json" } else { "text/csv" },
            );
            term.push(
                "",
                vec![
                    Span::styled("saved ", "ok"),
                    Span::plain(format!("{name} ({} bytes), sha256 ", bytes.len())),
                    Span::styled(sha, "dim"),
                ],
            );
            Ok(())
        }),
        Command::Balance => term.run(async move {
            let (balance, rows) = calls::balance().await?;
            term.remember(rows.iter().map(|t| t.source.clone()));
            term.lines_of("", format::balance(&balance, &rows));
            Ok(())
        }),
        Command::Links { status } => term.run(async move {
            let list = calls::links(status.as_deref()).await?;
            if list.data.is_empty() {
                term.say("dim", "No payment links.");
            } else {
                term.remember(list.data.iter().map(|l| l.id.clone()));
                term.lines_of("", format::link_table(&list.data));
            }
            Ok(())
        }),
        Command::LinkDetails { link } => term.run(async move {
            let (l, payments, emails) = calls::link_details(&link).await?;
            term.remember(payments.iter().map(|p| p.id.clone()));
            term.lines_of("", format::link_details(&l, &payments, &emails));
            Ok(())
        }),
        Command::Send { link } => {
            let csrf = term.csrf();
            term.run(async move {
                let n = calls::send_link(&csrf, &link).await?;
                term.push(
                    "",
                    vec![
                        Span::styled("queued ", "ok"),
                        Span::styled(n.id, "id"),
                        Span::plain(format!(" to {}", n.recipient)),
                    ],
                );
                Ok(())
            });
        }
        Command::Payouts { status } => term.run(async move {
            let list = calls::payouts(status.as_deref()).await?;
            if list.data.is_empty() {
                term.say("dim", "No payouts.");
            } else {
                term.remember(list.data.iter().map(|p| p.id.clone()));
                term.lines_of("", format::payout_table(&list.data));
            }
            Ok(())
        }),
        Command::PayoutDetails { payout } => term.run(async move {
            let p = calls::payout(&payout).await?;
            term.lines_of("", format::payout_details(&p));
            Ok(())
        }),
        Command::PayOut {
            money,
            account,
            bank_code,
            holder,
            country,
            reference,
            purpose,
        } => {
            let csrf = term.csrf();
            term.run(async move {
                let body = CreatePayoutRequest {
                    amount: Some(money.amount()),
                    currency: Some(money.currency().code().to_string()),
                    destination: PayoutDestinationInput {
                        bank_account: Some(BankAccountInput {
                            account_number: account.into(),
                            bank_code,
                            account_holder: holder,
                            country,
                        }),
                        ..PayoutDestinationInput::default()
                    },
                    merchant_reference: reference,
                    purpose,
                    settlement: None,
                };
                let p = calls::create_payout(&csrf, &body).await?;
                term.remember([p.id.clone()]);
                let note = match p.status.as_str() {
                    "requires_approval" => ": it waits for another admin to approve it",
                    "in_transit" => ": on its way",
                    _ => "",
                };
                term.push(
                    "",
                    vec![
                        Span::styled(format!("{} ", p.status), "ok"),
                        Span::styled(p.id.clone(), "id"),
                        Span::plain(format!(
                            " {} to {}{note}",
                            format::amount(p.amount, &p.currency),
                            format::payout_destination(&p)
                        )),
                    ],
                );
                Ok(())
            });
        }
        Command::Approve { payout } => term.run(async move {
            let p = calls::payout(&payout).await?;
            let (question, pending) = flow::approve_question(&p);
            term.mode.set(Mode::Confirm { question, pending });
            Ok(())
        }),
        Command::CancelPayout { payout } => term.run(async move {
            let p = calls::payout(&payout).await?;
            let (question, pending) = flow::cancel_payout_question(&p);
            term.mode.set(Mode::Confirm { question, pending });
            Ok(())
        }),
        Command::CancelLink { link } => term.run(async move {
            let l = calls::link(&link).await?;
            let (question, pending) = flow::cancel_link_question(&l);
            term.mode.set(Mode::Confirm { question, pending });
            Ok(())
        }),
        Command::Events { kind } => term.run(async move {
            let events = calls::events(kind.as_deref()).await?;
            if events.data.is_empty() {
                term.say("dim", "No events.");
            } else {
                term.lines_of("", format::event_table(&events.data));
            }
            Ok(())
        }),
        Command::SslcommerzCredentials => {
            let csrf = term.csrf();
            term.run(async move {
                let issued = calls::sslcommerz_credentials(&csrf).await?;
                term.say("ok", format!("store_id      {}", issued.store_id));
                term.say("ok", format!("store_passwd  {}", issued.store_passwd));
                term.say(
                    "dim",
                    "The password is shown only now. The store's earlier pair no longer works.",
                );
                Ok(())
            });
        }
        Command::Resend { event } => {
            let csrf = term.csrf();
            term.run(async move {
                let detail = calls::resend(&csrf, &event).await?;
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
        let list = calls::payments(&query).await?;
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
        let p = calls::payment(&payment).await?;
        term.remember([p.id.clone()]);
        let amount = match amount.map(|text| flow::amount_in(&text, &p.currency)) {
            None => None,
            Some(Ok(amount)) => Some(amount),
            Some(Err(error)) => {
                term.say("bad", error);
                return Ok(());
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
            let p = calls::capture(&csrf, &payment, amount).await?;
            say_payment(term, "captured", &p);
        }
        Pending::Void { payment } => {
            let p = calls::void(&csrf, &payment).await?;
            say_payment(term, "voided", &p);
        }
        Pending::Refund {
            payment,
            amount,
            reason,
        } => {
            let r = calls::refund(&csrf, payment, amount, reason).await?;
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
        Pending::ChargeSaved {
            money,
            customer,
            card,
            reference,
        } => {
            let body = CreatePayment {
                amount: money.amount(),
                currency: money.currency().code().to_string(),
                card: None,
                order_reference: reference,
                capture_method: CaptureMethod::Automatic,
                customer: Some(customer),
                payment_method: Some(card),
                off_session: true,
                mandate: None,
                return_url: None,
            };
            let p = calls::charge(&csrf, &body).await?;
            let verb = if p.status == kasse_core::PaymentStatus::Succeeded {
                "charged"
            } else {
                "declined"
            };
            say_payment(term, verb, &p);
            if let Some(code) = p.decline_code {
                term.say("bad", format!("declined: {}", code.as_str()));
            }
            if let Some(url) = &p.recovery_url {
                term.say(
                    "info",
                    "The bank wants the customer to confirm. Send them this page:",
                );
                term.push("", vec![Span::styled(url.clone(), "link")]);
            }
        }
        Pending::ApprovePayout { payout } => {
            let p = calls::approve_payout(&csrf, &payout).await?;
            term.push(
                "",
                vec![
                    Span::styled("approved ", "ok"),
                    Span::styled(p.id.clone(), "id"),
                    Span::plain(format!(
                        " {} to {}: {}",
                        format::amount(p.amount, &p.currency),
                        format::payout_destination(&p),
                        p.status
                    )),
                ],
            );
        }
        Pending::CancelPayout { payout } => {
            let p = calls::cancel_payout(&csrf, &payout).await?;
            term.push(
                "",
                vec![
                    Span::styled("canceled ", "dim"),
                    Span::styled(p.id.clone(), "id"),
                    Span::plain(format!(
                        " {} is available again",
                        format::amount(p.amount, &p.currency)
                    )),
                ],
            );
        }
        Pending::CancelLink { link } => {
            let l = calls::cancel_link(&csrf, &link).await?;
            term.push(
                "",
                vec![
                    Span::styled("canceled ", "dim"),
                    Span::styled(l.id, "id"),
                    Span::plain(format!(
                        " with {} paid",
                        format::amount(l.amount_paid, &l.currency)
                    )),
                ],
            );
        }
        Pending::CancelSubscription { subscription } => {
            let s = calls::cancel_subscription(&csrf, &subscription).await?;
            term.push(
                "",
                vec![
                    Span::styled("canceled ", "dim"),
                    Span::styled(s.id, "id"),
                    Span::plain(format!(" after {} paid cycle(s)", s.cycles_paid)),
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
fn card_answer(term: Term, draft: Draft, prompt: &str, text: String) {
    let step = flow::card_answer(draft, prompt, &text, today());
    term.say("echo", step.echo);
    if let Some(error) = step.error {
        term.say("bad", error);
    }
    match step.next {
        CardNext::Ask(draft) => term.mode.set(Mode::Card(draft)),
        CardNext::Charge { draft, name } => charge(term, draft, name),
    }
}

fn charge(term: Term, draft: Draft, name: Option<String>) {
    let (Some(number), Some(expiry), Some(cvc)) = (draft.number, draft.expiry, draft.cvc) else {
        return;
    };
    let body = CreatePayment {
        amount: draft.money.amount(),
        currency: draft.money.currency().code().to_string(),
        card: Some(CardInput {
            number: Sensitive(number.expose_digits().to_string()),
            exp_month: expiry.month,
            exp_year: expiry.year,
            cvc,
            name,
        }),
        order_reference: draft.reference,
        capture_method: if draft.manual {
            CaptureMethod::Manual
        } else {
            CaptureMethod::Automatic
        },
        customer: None,
        payment_method: None,
        off_session: false,
        mandate: None,
        return_url: None,
    };
    let csrf = term.csrf();
    term.run(async move {
        let p = calls::charge(&csrf, &body).await?;
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

/// Hands `bytes` to the browser to save as `name`.
fn save_file(bytes: &[u8], name: &str, kind: &str) {
    use wasm_bindgen::JsCast;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(kind);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let anchor = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(anchor) = anchor {
        anchor.set_href(&url);
        anchor.set_download(name);
        anchor.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
