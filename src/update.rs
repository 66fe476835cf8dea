//! The card update page (`/update/{id}#{secret}`): a customer replaces a
//! saved card the merchant asked them to, with the same card form as the
//! payment page and no charge.

use kasse_core::api::{UpdatePage, UpdateRequest};
use kasse_core::error::{DeclineCode, ErrorCode};
use kasse_core::{Locale, RequestedLocale};
use leptos::either::EitherOf4;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::card_form::CardForm;
use crate::fresh::Fresh;
use crate::i18n;

/// Reads `/update/{id}#{secret}`.
pub fn parse_location(path: &str, hash: &str) -> Option<(String, String)> {
    let id = path.strip_prefix("/update/")?.trim_end_matches('/');
    let secret = hash.strip_prefix('#').unwrap_or(hash);
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (valid(id) && valid(secret)).then(|| (id.to_string(), secret.to_string()))
}

#[derive(Debug, Clone, PartialEq)]
enum Screen {
    Loading,
    Unavailable(String),
    Ready(Box<UpdatePage>),
    Done {
        card: String,
        return_url: String,
        merchant: String,
    },
}

#[component]
pub fn UpdateApp() -> impl IntoView {
    let location = window().location();
    let target = parse_location(
        &location.pathname().unwrap_or_default(),
        &location.hash().unwrap_or_default(),
    );
    let languages = i18n::browser_languages();
    let locale = RwSignal::new(Locale::negotiate(
        None,
        languages.iter().map(String::as_str),
    ));
    Effect::new(move |_| i18n::set_document_language(locale.get()));
    let screen = RwSignal::new(Screen::Loading);
    let busy = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    match target.clone() {
        None => screen.set(Screen::Unavailable(
            i18n::text(locale.get_untracked()).link_incomplete.into(),
        )),
        Some((id, secret)) => spawn_local(async move {
            match api::load_update(&id, &secret).await {
                Ok(page) => {
                    let languages = i18n::browser_languages();
                    let wanted = match page.locale {
                        RequestedLocale::Fixed(l) => Some(RequestedLocale::Fixed(l)),
                        RequestedLocale::Auto => None,
                    };
                    locale.set(Locale::negotiate(
                        wanted,
                        languages.iter().map(String::as_str),
                    ));
                    crate::theme::apply(&page.appearance);
                    let t = i18n::text(locale.get_untracked());
                    if page.status == "open" {
                        screen.set(Screen::Ready(Box::new(page)));
                    } else {
                        screen.set(Screen::Unavailable(i18n::fill(
                            t.update_used,
                            &page.merchant_name,
                        )));
                    }
                }
                Err(failure) => {
                    let t = i18n::text(locale.get_untracked());
                    screen.set(Screen::Unavailable(match failure.code {
                        Some(_) => t.not_found.into(),
                        None => t.unreachable.into(),
                    }))
                }
            }
        }),
    }
    let on_submit = Callback::new(move |card| {
        let Some((id, secret)) = target.clone() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        notice.set(None);
        spawn_local(async move {
            let t = i18n::text(locale.get_untracked());
            let merchant = match screen.get_untracked() {
                Screen::Ready(page) => page.merchant_name.clone(),
                _ => String::new(),
            };
            match api::update_card(&id, &secret, &UpdateRequest { card }).await {
                Ok(done) => screen.set(Screen::Done {
                    card: done.card.label(),
                    return_url: done.return_url,
                    merchant,
                }),
                Err(failure) => {
                    let message = match failure.code {
                        None => t.unreachable.to_string(),
                        Some(ErrorCode::CardDeclined) => {
                            t.decline(DeclineCode::CardDeclined).to_string()
                        }
                        Some(ErrorCode::ParameterInvalid) => t.update_saved_already.to_string(),
                        Some(ErrorCode::CheckoutSessionNotOpen) => {
                            i18n::fill(t.update_used, &merchant)
                        }
                        Some(code) => t.api_error(code).unwrap_or(t.not_found).to_string(),
                    };
                    notice.set(Some(message));
                }
            }
            busy.set(false);
        });
    });

    view! {
        <main class="kasse-page">
            {move || {
                let t = i18n::text(locale.get());
                provide_context(locale.get());
                Fresh(match screen.get() {
                    Screen::Loading => EitherOf4::A(view! {
                        <section class="kasse-card" aria-busy="true">
                            <p class="kasse-loading" role="status">{t.loading}</p>
                        </section>
                    }),
                    Screen::Unavailable(message) => EitherOf4::B(view! {
                        <section class="kasse-card">
                            <h1>{t.unavailable}</h1>
                            <p id="kasse-message" role="alert">{message}</p>
                        </section>
                    }),
                    Screen::Ready(page) => EitherOf4::C(view! {
                        <section class="kasse-card" aria-busy=move || crate::aria(busy.get())>
                            <header class="kasse-summary">
                                <p class="kasse-merchant" id="kasse-merchant">{page.merchant_name.clone()}</p>
                                <h1 id="kasse-update-title">{t.update_title}</h1>
                                <p class="kasse-reference" id="kasse-update-old">
                                    {[
                                        i18n::fill(t.update_replaces, &page.merchant_name),
                                        page.card.label(),
                                    ]
                                    .join(" ")}
                                </p>
                            </header>
                            <div id="kasse-notice" class="kasse-notice" role="alert" aria-live="assertive">
                                {move || Fresh(notice.get().map(|n| view! { <p>{n}</p> }))}
                            </div>
                            <CardForm busy=busy pay_label=t.update_save.to_string() on_submit=on_submit />
                            <footer class="kasse-footer">{t.footer}</footer>
                        </section>
                    }),
                    Screen::Done { card, return_url, merchant } => EitherOf4::D(view! {
                        <section class="kasse-card">
                            <div class="kasse-receipt" role="status">
                                <h1 class="kasse-success" id="kasse-updated">{t.update_done}</h1>
                                <p id="kasse-update-new">{card}</p>
                            </div>
                            <a class="kasse-cancel" id="kasse-update-return" href=return_url>
                                {i18n::fill(t.return_to, &merchant)}
                            </a>
                        </section>
                    }),
                })
            }}
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::parse_location;

    #[test]
    fn reads_the_link_and_its_secret_from_the_url() {
        assert_eq!(
            parse_location("/update/pmu_1", "#abc_DEF"),
            Some(("pmu_1".into(), "abc_DEF".into()))
        );
        assert_eq!(parse_location("/update/pmu_1", ""), None);
        assert_eq!(parse_location("/pay/cs_1", "#x"), None);
        assert_eq!(parse_location("/update/pm u", "#x"), None);
    }
}
