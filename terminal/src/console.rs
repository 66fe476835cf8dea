//! The console's state on the page: the scrollback, the prompt's mode, the
//! login, the history kept in the browser, and running a command's work
//! while the prompt waits.

use kasse_core::api::{PaymentList, StaffSession};
use leptos::html::Input;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, Failure};
use crate::flow::Mode;
use crate::format::Span;
use crate::history::History;

/// Lines kept in the scrollback.
const SCROLLBACK: usize = 2000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Line {
    pub id: u64,
    pub class: &'static str,
    pub spans: Vec<Span>,
}

/// Everything the console holds; every field is a cheap handle.
#[derive(Clone, Copy)]
pub(crate) struct Term {
    pub lines: RwSignal<Vec<Line>>,
    pub next_id: StoredValue<u64>,
    pub mode: RwSignal<Mode>,
    pub session: RwSignal<Option<StaffSession>>,
    pub history: StoredValue<History>,
    /// Payment ids seen, for Tab.
    pub known: StoredValue<Vec<String>>,
    pub input: NodeRef<Input>,
}

impl Term {
    pub(crate) fn push(&self, class: &'static str, spans: Vec<Span>) {
        let id = self.next_id.get_value();
        self.next_id.set_value(id + 1);
        self.lines.update(|lines| {
            lines.push(Line { id, class, spans });
            if lines.len() > SCROLLBACK {
                lines.drain(..lines.len() - SCROLLBACK);
            }
        });
    }

    pub(crate) fn say(&self, class: &'static str, text: impl Into<String>) {
        self.push(class, vec![Span::plain(text)]);
    }

    pub(crate) fn lines_of(&self, class: &'static str, lines: Vec<Vec<Span>>) {
        for spans in lines {
            self.push(class, spans);
        }
    }

    pub(crate) fn clear(&self) {
        self.lines.set(Vec::new());
    }

    pub(crate) fn csrf(&self) -> String {
        self.session
            .with_untracked(|s| s.as_ref().map(|s| s.csrf_token.clone()))
            .unwrap_or_default()
    }

    pub(crate) fn remember(&self, ids: impl IntoIterator<Item = String>) {
        self.known.update_value(|known| {
            for id in ids {
                if !known.contains(&id) {
                    known.push(id);
                }
            }
        });
    }

    pub(crate) fn focus(&self) {
        if let Some(input) = self.input.get_untracked() {
            let _ = input.focus();
        }
    }

    /// Logged in: the prompt, the user's history, and ids to complete.
    pub(crate) fn start(&self, session: StaffSession) {
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

    pub(crate) fn logged_out(&self, message: &str) {
        self.session.set(None);
        self.say("bad", message.to_string());
        self.mode.set(Mode::Email);
    }

    /// An API failure, plainly; a lost login goes back to the login prompt.
    pub(crate) fn failed(&self, failure: Failure) {
        if failure.logged_out() && self.session.get_untracked().is_some() {
            self.logged_out("Your login has ended. Log in again.");
        } else {
            self.say("bad", format!("error: {}", failure.message));
            self.back_to_prompt();
        }
    }

    pub(crate) fn back_to_prompt(&self) {
        let logged_in = self.session.with_untracked(Option::is_some);
        self.mode.set(if logged_in {
            Mode::Command
        } else {
            Mode::Email
        });
    }

    /// Runs a command's work with the prompt hidden, then brings it back.
    pub(crate) fn run(
        &self,
        work: impl std::future::Future<Output = Result<(), Failure>> + 'static,
    ) {
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
pub(crate) fn focus_unless_selecting(term: Term) {
    let selecting = web_sys::window()
        .and_then(|w| w.get_selection().ok().flatten())
        .is_some_and(|s| !s.is_collapsed());
    if !selecting {
        term.focus();
    }
}

pub(crate) fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

pub(crate) fn load_history(user_id: &str) -> Vec<String> {
    storage()
        .and_then(|s| s.get_item(&History::storage_key(user_id)).ok()?)
        .and_then(|json| js_sys::JSON::parse(&json).ok())
        .and_then(|value| kasse_core::wire::from_js(value).ok())
        .unwrap_or_default()
}

pub(crate) fn save_history(user_id: &str, history: &History) {
    if let Some(storage) = storage()
        && let Ok(json) = kasse_core::wire::to_json(history.entries())
    {
        let _ = storage.set_item(&History::storage_key(user_id), &json);
    }
}

/// The browser's (year, month) for expiry checks.
pub(crate) fn today() -> (u16, u8) {
    let now = js_sys::Date::new_0();
    (now.get_full_year() as u16, now.get_month() as u8 + 1)
}
