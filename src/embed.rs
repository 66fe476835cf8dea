//! Embed mode: the page inside checkout.js's popup. It talks to its parent
//! with `postMessage`, naming the parent's exact origin, and listens only to
//! that origin. The parent's origin comes from the URL (`?embed=1&origin=…`)
//! and is trusted only if it is one of the session's merchant origins — the
//! same list the server puts in `frame-ancestors`.

use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::Closure;
use wasm_bindgen::{JsCast, JsValue};

/// What the URL asked for, before it is checked against the session.
pub fn requested_parent(search: &str) -> Option<String> {
    let params = web_sys::UrlSearchParams::new_with_str(search).ok()?;
    (params.get("embed").as_deref() == Some("1"))
        .then(|| params.get("origin"))
        .flatten()
}

/// The page was asked to run inside a site that is not the merchant's.
#[derive(Debug, Clone, PartialEq)]
pub struct ForeignParent;

/// A checked parent origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Parent {
    pub origin: String,
}

impl Parent {
    /// The parent, if it asked for embed mode from one of `allowed`.
    pub fn check(
        requested: Option<String>,
        allowed: &[String],
    ) -> Result<Option<Self>, ForeignParent> {
        match requested {
            None => Ok(None),
            Some(origin) if allowed.contains(&origin) => Ok(Some(Self { origin })),
            Some(_) => Err(ForeignParent),
        }
    }

    /// Sends `{source: "kasse", type, …fields}` to the parent's origin only.
    pub fn post(&self, kind: &str, fields: &[(&str, JsValue)]) {
        let message = object(&[("source", "kasse".into()), ("type", kind.into())]);
        for (key, value) in fields {
            let _ = Reflect::set(&message, &(*key).into(), value);
        }
        if let Some(parent) = web_sys::window().and_then(|w| w.parent().ok().flatten()) {
            let _ = parent.post_message(&message, &self.origin);
        }
    }

    /// Appends the embed parameters to a URL the frame navigates to (3-D Secure).
    pub fn carry(&self, url: &str) -> String {
        match web_sys::Url::new(url) {
            Ok(u) => {
                u.search_params().set("embed", "1");
                u.search_params().set("origin", &self.origin);
                u.href()
            }
            Err(_) => url.to_string(),
        }
    }

    /// Listens for the parent: only its origin, only the window above.
    /// Escape inside the frame asks the parent to close; the page's height
    /// is reported as it changes.
    pub fn listen(&self, on_focus: impl Fn() + 'static) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let origin = self.origin.clone();
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
                let from_parent = event.origin() == origin
                    && web_sys::window()
                        .and_then(|w| w.parent().ok().flatten())
                        .zip(event.source())
                        .is_some_and(|(parent, source)| {
                            js_sys::Object::is(parent.as_ref(), source.as_ref())
                        });
                if !from_parent {
                    return;
                }
                let kind = js_sys::Reflect::get(&event.data(), &"type".into())
                    .ok()
                    .and_then(|v| v.as_string());
                if kind.as_deref() == Some("focus") {
                    on_focus();
                }
            });
        let _ =
            window.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        on_message.forget();

        let parent = self.clone();
        let on_key =
            Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |event: web_sys::KeyboardEvent| {
                if event.key() == "Escape" {
                    parent.post("close", &[]);
                }
            });
        let _ = window.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
        on_key.forget();

        let parent = self.clone();
        let on_resize = Closure::<dyn Fn()>::new(move || {
            let height = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
                .map_or(0, |e| e.scroll_height());
            parent.post("resized", &[("height", height.into())]);
        });
        if let (Ok(observer), Some(root)) = (
            web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()),
            window.document().and_then(|d| d.document_element()),
        ) {
            observer.observe(&root);
        }
        on_resize.forget();
    }
}

/// A plain object of `fields`, for a message to the parent.
pub fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (key, value) in fields {
        let _ = Reflect::set(&object, &(*key).into(), value);
    }
    object
}

/// The redirect's query parameters as a plain object (session_id,
/// payment_id, status, signature, and the merchant's own).
pub fn redirect_params(url: &str) -> Object {
    let params = Object::new();
    if let Ok(u) = web_sys::Url::new(url) {
        let search = u.search();
        for pair in search
            .trim_start_matches('?')
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                js_sys::decode_uri_component(&s.replace('+', " "))
                    .map(String::from)
                    .unwrap_or_default()
            };
            let _ = Reflect::set(&params, &decode(k).into(), &decode(v).into());
        }
    }
    params
}
