//! The payment page: loads the session, shows the card form, confirms, and
//! sends the customer back to the merchant.

use kasse_core::api::{CardInput, ConfirmRequest, ConfirmResponse, PaySession};
use kasse_core::money::format_amount;
use kasse_core::{Currency, SessionStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use serde_json::json;

use crate::api;
use crate::card_form::CardForm;
use crate::embed::{self, Parent};

/// The session id and client secret this page was opened with.
#[derive(Debug, Clone, PartialEq)]
pub struct PageTarget {
    pub session_id: String,
    pub client_secret: String,
}

/// Reads `/pay/{id}#{secret}`.
pub fn parse_location(path: &str, hash: &str) -> Option<PageTarget> {
    let session_id = path.strip_prefix("/pay/")?.trim_end_matches('/');
    let client_secret = hash.strip_prefix('#').unwrap_or(hash);
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (valid(session_id) && valid(client_secret)).then(|| PageTarget {
        session_id: session_id.to_string(),
        client_secret: client_secret.to_string(),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Screen {
    Loading,
    Unavailable(String),
    Ready(Box<PaySession>, Option<Parent>),
}

fn focus_card_number() {
    let input = window()
        .document()
        .and_then(|d| d.get_element_by_id("card-number"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(input) = input {
        let _ = input.focus();
    }
}

#[component]
pub fn App() -> impl IntoView {
    let location = window().location();
    let target = parse_location(
        &location.pathname().unwrap_or_default(),
        &location.hash().unwrap_or_default(),
    );
    let requested_parent = embed::requested_parent(&location.search().unwrap_or_default());
    let screen = RwSignal::new(Screen::Loading);
    match target.clone() {
        None => screen.set(Screen::Unavailable(
            "This payment link is incomplete. Open the link the shop gave you again.".into(),
        )),
        Some(t) => spawn_local(async move {
            screen.set(
                match api::load_session(&t.session_id, &t.client_secret).await {
                    Ok(session) => match Parent::check(requested_parent, &session.merchant_origins)
                    {
                        Ok(parent) => {
                            if let Some(parent) = &parent {
                                parent.listen(focus_card_number);
                                parent.post("loaded", json!({ "session_id": session.id }));
                            }
                            crate::theme::apply(&session.appearance);
                            Screen::Ready(Box::new(session), parent)
                        }
                        Err(embed::ForeignParent) => {
                            Screen::Unavailable("This payment cannot be shown on this site.".into())
                        }
                    },
                    Err(failure) => {
                        let message = match failure.code {
                            Some(_) => "We could not find this payment. Return to the shop and start again.".to_string(),
                            None => failure.message,
                        };
                        // In a popup, the merchant's page hears of it. The
                        // origin is unverified here, so the message says nothing
                        // the URL did not already.
                        if let Some(origin) = requested_parent {
                            Parent { origin }.post("error", json!({ "message": message }));
                        }
                        Screen::Unavailable(message)
                    }
                },
            );
        }),
    }

    view! {
        <main class="kasse-page">
            {move || match screen.get() {
                Screen::Loading => view! {
                    <section class="kasse-card" aria-busy="true">
                        <p class="kasse-loading">"Loading payment…"</p>
                    </section>
                }.into_any(),
                Screen::Unavailable(message) => view! {
                    <section class="kasse-card">
                        <h1>"Payment unavailable"</h1>
                        <p id="kasse-message">{message}</p>
                    </section>
                }.into_any(),
                Screen::Ready(session, parent) => view! {
                    <Checkout
                        session=*session
                        target=target.clone().expect("loaded with a target")
                        parent=parent
                    />
                }.into_any(),
            }}
        </main>
    }
}

/// How long a paid session's receipt shows before the redirect.
const RECEIPT_MILLIS: u64 = 1500;

fn amount_text(session: &PaySession) -> String {
    Currency::parse(&session.currency)
        .map(|c| format_amount(session.amount, c))
        .unwrap_or_else(|_| format!("{} {}", session.amount, session.currency))
}

/// What checkout.js's `onSuccess` receives.
fn success_message(session_id: &str, payment_id: &str, redirect_url: &str) -> serde_json::Value {
    json!({
        "payment": {
            "session_id": session_id,
            "payment_id": payment_id,
            "status": "succeeded",
            "redirect_url": redirect_url,
            "params": embed::redirect_params(redirect_url),
        }
    })
}

#[component]
fn Checkout(session: PaySession, target: PageTarget, parent: Option<Parent>) -> impl IntoView {
    let amount = amount_text(&session);
    let status = RwSignal::new(session.status);
    let busy = RwSignal::new(false);
    let paid = RwSignal::new(false);
    let notice = RwSignal::new(session.last_error.map(|e| e.message));
    let authenticating = RwSignal::new(false);
    let merchant = session.merchant_name.clone();
    let cancel_url = session.cancel_url.clone();
    let redirect_url = session.redirect_url.clone();
    // Back from 3-D Secure (or a second visit) to a paid session: show the
    // receipt, then take the customer back as after any payment.
    if let Some(url) = redirect_url
        .clone()
        .filter(|_| session.status == SessionStatus::Complete)
    {
        let parent = parent.clone();
        let session_id = session.id.clone();
        leptos::prelude::set_timeout(
            move || match &parent {
                Some(parent) => {
                    let payment_id = embed::redirect_params(&url)["payment_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    parent.post("success", success_message(&session_id, &payment_id, &url));
                }
                None => {
                    let _ = window().location().assign(&url);
                }
            },
            std::time::Duration::from_millis(RECEIPT_MILLIS),
        );
    }
    if let Some(parent) = parent.clone() {
        Effect::new(move |_| parent.post("busy", json!({ "busy": busy.get() })));
    }
    let session_id = session.id.clone();
    let on_cancel = {
        let parent = parent.clone();
        let session_id = session_id.clone();
        let cancel_url = cancel_url.clone();
        move |ev: leptos::ev::MouseEvent| {
            if let Some(parent) = &parent {
                ev.prevent_default();
                parent.post(
                    "cancel",
                    json!({ "session_id": session_id, "redirect_url": cancel_url }),
                );
            }
        }
    };

    let on_submit = Callback::new(move |card: CardInput| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        notice.set(None);
        let target = target.clone();
        let parent = parent.clone();
        spawn_local(async move {
            let request = ConfirmRequest { card };
            match api::confirm(&target.session_id, &target.client_secret, &request).await {
                Ok(ConfirmResponse::Succeeded {
                    redirect_url,
                    payment_id,
                }) => {
                    paid.set(true);
                    match &parent {
                        Some(parent) => parent.post(
                            "success",
                            success_message(&target.session_id, &payment_id, &redirect_url),
                        ),
                        None => {
                            let _ = window().location().assign(&redirect_url);
                        }
                    }
                }
                Ok(ConfirmResponse::RequiresAction { next_action, .. }) => {
                    authenticating.set(true);
                    let url = match &parent {
                        Some(parent) => parent.carry(&next_action.redirect_url),
                        None => next_action.redirect_url,
                    };
                    let _ = window().location().assign(&url);
                }
                Ok(ConfirmResponse::Declined { message, .. }) => {
                    notice.set(Some(message));
                    busy.set(false);
                }
                Err(failure) => {
                    match failure.code.as_deref() {
                        Some("checkout_session_complete") => status.set(SessionStatus::Complete),
                        Some("checkout_session_expired") => status.set(SessionStatus::Expired),
                        _ => {}
                    }
                    notice.set(Some(failure.message));
                    busy.set(false);
                }
            }
        });
    });

    let pay_label = format!("Pay {amount}");
    view! {
        <section class="kasse-card">
            <header class="kasse-summary">
                // Decorative: the merchant's name follows as text.
                {session.appearance.logo_url.clone().map(|src| view! {
                    <img class="kasse-logo" id="kasse-logo" src=src alt="" />
                })}
                <p class="kasse-merchant" id="kasse-merchant">{merchant.clone()}</p>
                <p class="kasse-amount" id="kasse-amount">{amount}</p>
                {session.order_reference.map(|r| view! { <p class="kasse-reference">"Order " {r}</p> })}
            </header>
            <div id="kasse-notice" class="kasse-notice" role="alert" aria-live="assertive">
                {move || notice.get()}
            </div>
            {move || {
                if authenticating.get() {
                    view! {
                        <p class="kasse-loading" id="kasse-authenticating" role="status">
                            "Taking you to your bank to confirm the payment…"
                        </p>
                    }.into_any()
                } else if paid.get() {
                    view! {
                        <p class="kasse-success" id="kasse-paid" role="status">
                            "Payment successful. Taking you back to " {merchant.clone()} "…"
                        </p>
                    }.into_any()
                } else {
                    match status.get() {
                        SessionStatus::Open => view! {
                            <CardForm busy=busy pay_label=pay_label.clone() on_submit=on_submit />
                            <a class="kasse-cancel" id="kasse-cancel" href=cancel_url.clone() on:click=on_cancel.clone()>
                                "Cancel and return to " {merchant.clone()}
                            </a>
                        }.into_any(),
                        SessionStatus::Complete => view! {
                            <p class="kasse-success" id="kasse-already-paid" role="status">
                                "Payment complete. Taking you back to " {merchant.clone()} "…"
                            </p>
                            {redirect_url.clone().map(|url| view! {
                                <a class="kasse-cancel" href=url>"Return to " {merchant.clone()}</a>
                            })}
                        }.into_any(),
                        SessionStatus::Expired => view! {
                            <p id="kasse-expired">"This payment link has expired. Return to the shop to start again."</p>
                            <a class="kasse-cancel" href=cancel_url.clone()>"Return to " {merchant.clone()}</a>
                        }.into_any(),
                    }
                }
            }}
            <footer class="kasse-footer">"Secured by Kasse · sandbox"</footer>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_location;

    #[test]
    fn reads_the_session_and_the_secret_from_the_url() {
        let t = parse_location("/pay/cs_abc", "#cs_abc_secret_xyz").unwrap();
        assert_eq!(t.session_id, "cs_abc");
        assert_eq!(t.client_secret, "cs_abc_secret_xyz");
        assert!(parse_location("/pay/cs_abc", "").is_none());
        assert!(parse_location("/other/cs_abc", "#s").is_none());
        assert!(parse_location("/pay/cs_a%20b", "#s").is_none());
    }
}
