//! The payment page: loads the session, shows the card form, confirms, and
//! sends the customer back to the merchant.

use kasse_core::api::{ConfirmRequest, PaySession, SaveCard};
use kasse_core::{Locale, SessionStatus};
use leptos::either::{EitherOf3, EitherOf5};
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::{JsCast, JsValue};

use crate::answer::{self, Next, Then};
use crate::api;
use crate::card_form::{CardForm, SaveConsent, SavedCards};
use crate::embed::{self, Parent};
use crate::fresh::Fresh;
use crate::i18n;
use crate::plain::Tpl::{El, If, Text};
use crate::plain::Val::{Arg, Is};
use crate::plain::{Plain, Tpl};

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
    /// The page cannot go on; `retry` when trying again may help (the
    /// server was not reached).
    Unavailable {
        message: String,
        retry: bool,
    },
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

/// Reads the session and decides the page's language and screen.
async fn load(
    target: PageTarget,
    requested_parent: Option<String>,
    locale: RwSignal<Locale>,
) -> Screen {
    let t = i18n::text(locale.get_untracked());
    match api::load_session(&target.session_id, &target.client_secret).await {
        Ok(session) => {
            let languages = i18n::browser_languages();
            locale.set(Locale::negotiate(
                Some(session.locale),
                languages.iter().map(String::as_str),
            ));
            match Parent::check(requested_parent, &session.merchant_origins) {
                Ok(parent) => {
                    if let Some(parent) = &parent {
                        parent.listen(focus_card_number);
                        // The cancel link's URL too: closing the popup is a cancel
                        // for APIs that must hear of one (SSLCOMMERZ's Easy Checkout).
                        parent.post(
                            "loaded",
                            &[
                                ("session_id", session.id.as_str().into()),
                                ("cancel_url", session.cancel_url.as_str().into()),
                            ],
                        );
                    }
                    crate::theme::apply(&session.appearance);
                    Screen::Ready(Box::new(session), parent)
                }
                Err(embed::ForeignParent) => Screen::Unavailable {
                    message: i18n::text(locale.get_untracked()).foreign_site.into(),
                    retry: false,
                },
            }
        }
        Err(failure) => {
            let (message, retry) = match failure.code {
                Some(_) => (t.not_found.to_string(), false),
                None => (t.unreachable.to_string(), true),
            };
            // In a popup, the merchant's page hears of it. The origin is
            // unverified here, so the message says nothing the URL did not.
            if let Some(origin) = requested_parent {
                Parent { origin }.post("error", &[("message", message.as_str().into())]);
            }
            Screen::Unavailable { message, retry }
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    let location = window().location();
    let target = parse_location(
        &location.pathname().unwrap_or_default(),
        &location.hash().unwrap_or_default(),
    );
    let search = location.search().unwrap_or_default();
    let requested_parent = embed::requested_parent(&search);
    let from_bank = web_sys::UrlSearchParams::new_with_str(&search)
        .is_ok_and(|p| p.get("from").as_deref() == Some("3ds"));
    // Until the session says otherwise, the browser's languages decide.
    let languages = i18n::browser_languages();
    let locale = RwSignal::new(Locale::negotiate(
        None,
        languages.iter().map(String::as_str),
    ));
    Effect::new(move |_| i18n::set_document_language(locale.get()));
    let screen = RwSignal::new(Screen::Loading);
    let start = {
        let target = target.clone();
        move || match target.clone() {
            None => screen.set(Screen::Unavailable {
                message: i18n::text(locale.get_untracked()).link_incomplete.into(),
                retry: false,
            }),
            Some(t) => {
                screen.set(Screen::Loading);
                let requested_parent = requested_parent.clone();
                spawn_local(async move { screen.set(load(t, requested_parent, locale).await) });
            }
        }
    };
    start();
    let retry = start.clone();

    view! {
        <main class="kasse-page">
            {move || {
                let t = i18n::text(locale.get());
                Fresh(match screen.get() {
                    Screen::Loading => EitherOf3::A(Plain::new(LOADING, &[t.loading])),
                    Screen::Unavailable { message, retry: can_retry } => {
                        let retry = retry.clone();
                        EitherOf3::B(view! {
                            <section class="kasse-card">
                                {Plain::new(UNAVAILABLE, &[t.unavailable, &message])}
                                {can_retry.then(|| view! {
                                    <button type="button" class="kasse-pay" id="kasse-retry" on:click=move |_| retry()>
                                        {t.retry}
                                    </button>
                                })}
                            </section>
                        })
                    }
                    Screen::Ready(session, parent) => {
                        provide_context(locale.get());
                        EitherOf3::C(view! {
                            <Checkout
                                session=*session
                                target=target.clone().expect("loaded with a target")
                                parent=parent
                                from_bank=from_bank
                            />
                        })
                    }
                })
            }}
        </main>
    }
}

/// Until the session is read. Its words: `[loading]`.
const LOADING: &[Tpl] = &[El(
    "section",
    &[("class", Is("kasse-card")), ("aria-busy", Is("true"))],
    &[El(
        "p",
        &[
            ("class", Is("kasse-loading")),
            ("id", Is("kasse-loading")),
            ("role", Is("status")),
        ],
        &[Text(Arg(0))],
    )],
)];

/// The page cannot go on. Its words: `[title, why]`.
const UNAVAILABLE: &[Tpl] = &[
    El("h1", &[], &[Text(Arg(0))]),
    El(
        "p",
        &[("id", Is("kasse-message")), ("role", Is("alert"))],
        &[Text(Arg(1))],
    ),
];

/// What is paid, to whom. Its words: `[the logo's URL (it shows when there
/// is one), merchant, amount, "Order …" (it shows when there is an order
/// reference)]`. The logo is decorative: the merchant's name follows as
/// text.
const SUMMARY: &[Tpl] = &[El(
    "header",
    &[("class", Is("kasse-summary"))],
    &[
        If(
            0,
            &[El(
                "img",
                &[
                    ("class", Is("kasse-logo")),
                    ("id", Is("kasse-logo")),
                    ("src", Arg(0)),
                    ("alt", Is("")),
                ],
                &[],
            )],
        ),
        El(
            "p",
            &[
                ("class", Is("kasse-merchant")),
                ("id", Is("kasse-merchant")),
            ],
            &[Text(Arg(1))],
        ),
        El(
            "p",
            &[("class", Is("kasse-amount")), ("id", Is("kasse-amount"))],
            &[Text(Arg(2))],
        ),
        If(
            3,
            &[El(
                "p",
                &[("class", Is("kasse-reference"))],
                &[Text(Arg(3))],
            )],
        ),
    ],
)];

/// On the way to the bank. Its words: `[authenticating]`.
const AUTHENTICATING: &[Tpl] = &[El(
    "p",
    &[
        ("class", Is("kasse-loading")),
        ("id", Is("kasse-authenticating")),
        ("role", Is("status")),
    ],
    &[Text(Arg(0))],
)];

/// The receipt. Its words: `[title's id, title, "Paid to", merchant,
/// "Amount", amount, "Payment reference", payment id, "Order", the order's
/// reference (its row shows when there is one), "Taking you back…", the
/// return URL (its link shows when there is one), "Return to …"]`.
const PAID: &[Tpl] = &[
    El(
        "div",
        &[
            ("class", Is("kasse-receipt")),
            ("id", Is("kasse-receipt")),
            ("role", Is("status")),
        ],
        &[
            El(
                "h1",
                &[("class", Is("kasse-success")), ("id", Arg(0))],
                &[Text(Arg(1))],
            ),
            El(
                "dl",
                &[],
                &[
                    El("dt", &[], &[Text(Arg(2))]),
                    El("dd", &[], &[Text(Arg(3))]),
                    El("dt", &[], &[Text(Arg(4))]),
                    El("dd", &[], &[Text(Arg(5))]),
                    El("dt", &[], &[Text(Arg(6))]),
                    El("dd", &[("id", Is("kasse-payment-id"))], &[Text(Arg(7))]),
                    If(
                        9,
                        &[
                            El("dt", &[], &[Text(Arg(8))]),
                            El("dd", &[], &[Text(Arg(9))]),
                        ],
                    ),
                ],
            ),
            El("p", &[], &[Text(Arg(10))]),
        ],
    ),
    If(
        11,
        &[El(
            "a",
            &[("class", Is("kasse-cancel")), ("href", Arg(11))],
            &[Text(Arg(12))],
        )],
    ),
];

/// The session ran out. Its words: `[title, text, the cancel URL,
/// "Return to …"]`.
const EXPIRED: &[Tpl] = &[
    El(
        "div",
        &[("role", Is("status"))],
        &[
            El("h1", &[("id", Is("kasse-expired-title"))], &[Text(Arg(0))]),
            El("p", &[("id", Is("kasse-expired"))], &[Text(Arg(1))]),
        ],
    ),
    El(
        "a",
        &[("class", Is("kasse-cancel")), ("href", Arg(2))],
        &[Text(Arg(3))],
    ),
];

/// The customer cancelled. Its words: `[title, text]`.
const CANCELLED: &[Tpl] = &[El(
    "div",
    &[("role", Is("status")), ("id", Is("kasse-cancelled"))],
    &[
        El("h1", &[], &[Text(Arg(0))]),
        El("p", &[], &[Text(Arg(1))]),
    ],
)];

/// How long the receipt shows before the redirect.
const RECEIPT_MILLIS: u64 = 1500;

/// What checkout.js's `onSuccess` receives.
fn success_message(
    session_id: &str,
    payment_id: &str,
    redirect_url: &str,
) -> [(&'static str, JsValue); 1] {
    let payment = embed::object(&[
        ("session_id", session_id.into()),
        ("payment_id", payment_id.into()),
        ("status", "succeeded".into()),
        ("redirect_url", redirect_url.into()),
        ("params", embed::redirect_params(redirect_url).into()),
    ]);
    [("payment", payment.into())]
}

/// Where the customer is in paying.
#[derive(Debug, Clone, PartialEq)]
enum Stage {
    /// The card form (declines and failures show above it).
    Form,
    /// On the way to the bank's 3-D Secure page.
    Authenticating,
    /// Paid: the receipt, then the redirect. `just_now` is false on a
    /// second visit to a session paid before.
    Paid {
        payment_id: String,
        just_now: bool,
    },
    Expired,
    Cancelled,
}

/// A message above the form: a decline or a failure, with a retry when the
/// server was not reached (the card typed is kept and sent again).
#[derive(Debug, Clone, PartialEq)]
struct Notice {
    message: String,
    retry: bool,
}

/// Sends the customer on: the parent hears of it in a popup, else the page goes.
fn finish_paid(parent: Option<&Parent>, session_id: &str, payment_id: &str, url: &str) {
    match parent {
        Some(parent) => parent.post("success", &success_message(session_id, payment_id, url)),
        None => {
            let _ = window().location().assign(url);
        }
    }
}

#[component]
fn Checkout(
    session: PaySession,
    target: PageTarget,
    parent: Option<Parent>,
    from_bank: bool,
) -> impl IntoView {
    let locale = i18n::use_locale();
    let t = i18n::text(locale);
    let amount = i18n::amount(locale, session.amount, &session.currency);
    let busy = RwSignal::new(false);
    let notice = RwSignal::new(session.last_error.as_ref().map(|e| Notice {
        message: t.decline(e.decline_code).to_string(),
        retry: false,
    }));
    // Read untracked only: a signal of a type the page has anyway, not a
    // StoredValue of its own type.
    let redirect_url = RwSignal::new(session.redirect_url.clone());
    let stage = RwSignal::new(match session.status {
        SessionStatus::Open => Stage::Form,
        SessionStatus::Expired => Stage::Expired,
        SessionStatus::Complete => Stage::Paid {
            payment_id: session.payment_id.clone().unwrap_or_default(),
            just_now: from_bank,
        },
    });
    let merchant = session.merchant_name.clone();
    let cancel_url = session.cancel_url.clone();
    let session_id = session.id.clone();
    // Back from 3-D Secure (or a second visit) to a paid session: show the
    // receipt, then take the customer back as after any payment.
    if let (Stage::Paid { payment_id, .. }, Some(url)) =
        (stage.get_untracked(), redirect_url.get_untracked())
    {
        let parent = parent.clone();
        let session_id = session_id.clone();
        set_timeout(
            move || finish_paid(parent.as_ref(), &session_id, &payment_id, &url),
            std::time::Duration::from_millis(RECEIPT_MILLIS),
        );
    }
    if let Some(parent) = parent.clone() {
        Effect::new(move |_| parent.post("busy", &[("busy", busy.get().into())]));
    }
    let on_cancel = {
        let parent = parent.clone();
        let session_id = session_id.clone();
        let cancel_url = cancel_url.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.prevent_default();
            stage.set(Stage::Cancelled);
            match &parent {
                Some(parent) => parent.post(
                    "cancel",
                    &[
                        ("session_id", session_id.as_str().into()),
                        ("redirect_url", cancel_url.as_str().into()),
                    ],
                ),
                None => {
                    let _ = window().location().assign(&cancel_url);
                }
            }
        }
    };

    // Saving the card: the words the customer agrees to, and their box.
    let consent = (session.save_card != SaveCard::Off).then(|| SaveConsent {
        text: kasse_core::consent::save_card_text(
            locale,
            &session.merchant_name,
            session.setup_future_usage,
        ),
        optional: session.save_card == SaveCard::Optional,
        ticked: RwSignal::new(false),
    });
    let ticked = consent.as_ref().map(|c| c.ticked);
    let saved_cards = session.saved_cards.clone();
    let choice = RwSignal::new(saved_cards.first().map(|c| c.id.clone()));
    // The card form shows while no saved card is picked; a memo, so that
    // picking another saved card does not build the form again.
    let another_card = Memo::new(move |_| choice.get().is_none());

    // The request the server never answered, for "Try again".
    let unanswered = StoredValue::new(None::<ConfirmRequest>);
    let on_submit = Callback::new(move |request: ConfirmRequest| {
        // A second click while a confirm is in flight does nothing.
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        notice.set(None);
        unanswered.set_value(None);
        let target = target.clone();
        let parent = parent.clone();
        spawn_local(async move {
            let answer = api::confirm(&target.session_id, &target.client_secret, &request).await;
            match answer::after_confirm(answer, t) {
                Next::Paid {
                    payment_id,
                    redirect_url: url,
                } => {
                    stage.set(Stage::Paid {
                        payment_id: payment_id.clone(),
                        just_now: true,
                    });
                    redirect_url.set(Some(url.clone()));
                    match &parent {
                        // The merchant's page closes the popup at once.
                        Some(parent) => {
                            finish_paid(Some(parent), &target.session_id, &payment_id, &url)
                        }
                        None => set_timeout(
                            move || finish_paid(None, "", &payment_id, &url),
                            std::time::Duration::from_millis(RECEIPT_MILLIS),
                        ),
                    }
                }
                Next::Authenticate { redirect_url } => {
                    stage.set(Stage::Authenticating);
                    let url = match &parent {
                        Some(parent) => parent.carry(&redirect_url),
                        None => redirect_url,
                    };
                    let _ = window().location().assign(&url);
                }
                Next::Declined { message, leave } => {
                    notice.set(Some(Notice {
                        message,
                        retry: false,
                    }));
                    match leave {
                        // The form stays busy: the customer is on the way out.
                        Some(url) => match &parent {
                            // The loader takes the customer there in the top window.
                            Some(parent) => {
                                parent.post("failed", &[("redirect_url", url.as_str().into())])
                            }
                            None => {
                                let _ = window().location().assign(&url);
                            }
                        },
                        None => busy.set(false),
                    }
                }
                Next::Refused {
                    message,
                    keep_card,
                    then,
                } => {
                    match then {
                        Then::Expire => stage.set(Stage::Expired),
                        Then::Reload => {
                            let _ = window().location().reload();
                        }
                        Then::Stay => {}
                    }
                    if keep_card {
                        unanswered.set_value(Some(request));
                    }
                    notice.set(Some(Notice {
                        message,
                        retry: keep_card,
                    }));
                    busy.set(false);
                }
            }
        });
    });
    let retry = move |_| {
        if let Some(request) = unanswered.get_value() {
            on_submit.run(request);
        }
    };
    let pay_card = Callback::new(move |card| {
        on_submit.run(ConfirmRequest {
            card: Some(card),
            payment_method: None,
            cvc: None,
            save_card: ticked.is_some_and(|t| t.get_untracked()),
            locale: ticked.map(|_| locale.tag().to_string()),
        })
    });
    let pay_saved = Callback::new(move |(id, cvc): (String, String)| {
        on_submit.run(ConfirmRequest {
            card: None,
            payment_method: Some(id),
            cvc: Some(cvc.into()),
            save_card: false,
            locale: None,
        })
    });

    let pay_label = i18n::fill(t.pay, &amount);
    let reference = session.order_reference.clone();
    view! {
        <section class="kasse-card" aria-busy=move || crate::aria(busy.get())>
            {Plain::new(
                SUMMARY,
                &[
                    session.appearance.logo_url.as_deref().unwrap_or_default(),
                    &merchant,
                    &amount,
                    &reference.as_deref().map(|r| i18n::fill(t.order, r)).unwrap_or_default(),
                ],
            )}
            <div id="kasse-notice" class="kasse-notice" role="alert" aria-live="assertive">
                {move || Fresh(notice.get().map(|n| view! {
                    <p>{n.message}</p>
                    {n.retry.then(|| view! {
                        <button type="button" class="kasse-retry" id="kasse-retry" on:click=retry>
                            {t.retry}
                        </button>
                    })}
                }))}
            </div>
            {move || Fresh(match stage.get() {
                Stage::Form => {
                    let form_label = pay_label.clone();
                    let form_consent = consent.clone();
                    EitherOf5::A(view! {
                        {(!saved_cards.is_empty()).then(|| view! {
                            <SavedCards
                                cards=saved_cards.clone()
                                choice=choice
                                busy=busy
                                pay_label=pay_label.clone()
                                on_submit=pay_saved
                            />
                        })}
                        {move || Fresh(another_card.get().then(|| view! {
                            <CardForm
                                busy=busy
                                pay_label=form_label.clone()
                                on_submit=pay_card
                                consent=form_consent.clone()
                            />
                        }))}
                        <a class="kasse-cancel" id="kasse-cancel" href=cancel_url.clone() on:click=on_cancel.clone()>
                            {i18n::fill(t.cancel, &merchant)}
                        </a>
                    })
                }
                Stage::Authenticating => EitherOf5::B(Plain::new(AUTHENTICATING, &[t.authenticating])),
                Stage::Paid { payment_id, just_now } => {
                    let (title_id, title) = if just_now {
                        ("kasse-paid", t.paid)
                    } else {
                        ("kasse-already-paid", t.already_paid)
                    };
                    let order = i18n::fill(t.order, "");
                    let return_url = redirect_url.get_untracked().unwrap_or_default();
                    EitherOf5::C(Plain::new(
                        PAID,
                        &[
                            title_id,
                            title,
                            t.paid_to,
                            &merchant,
                            t.amount,
                            &amount,
                            t.reference,
                            &payment_id,
                            order.trim(),
                            reference.as_deref().unwrap_or_default(),
                            &i18n::fill(t.taking_back, &merchant),
                            &return_url,
                            &i18n::fill(t.return_to, &merchant),
                        ],
                    ))
                }
                Stage::Expired => EitherOf5::D(Plain::new(
                    EXPIRED,
                    &[
                        t.expired_title,
                        t.expired,
                        &cancel_url,
                        &i18n::fill(t.return_to, &merchant),
                    ],
                )),
                Stage::Cancelled => EitherOf5::E(Plain::new(
                    CANCELLED,
                    &[t.cancelled, &i18n::fill(t.cancelled_detail, &merchant)],
                )),
            })}
            <footer class="kasse-footer">{t.footer}</footer>
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
