//! `Fresh` in a real browser: a part that changes is built again in its
//! place, whichever way it changes, with its neighbours left alone.
#![cfg(target_arch = "wasm32")]

use kasse_web::fresh::Fresh;
use leptos::either::Either;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

mod common;
use common::{new_root, settle};

wasm_bindgen_test_configure!(run_in_browser);

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Nothing,
    Words(&'static str),
    Button,
}

fn text(root: &HtmlElement) -> String {
    root.text_content().unwrap_or_default()
}

fn the(root: &HtmlElement, selector: &str) -> Option<web_sys::Element> {
    root.query_selector(selector).unwrap()
}

#[wasm_bindgen_test]
async fn a_part_is_built_again_in_its_place() {
    let root = new_root();
    let part = RwSignal::new(Part::Words("one"));
    let clicks = RwSignal::new(0);
    leptos::mount::mount_to(root.clone(), move || {
        view! {
            <div>
                <span id="before">"["</span>
                {move || Fresh(match part.get() {
                    Part::Nothing => None,
                    Part::Words(words) => Some(Either::Left(view! { <p id="words">{words}</p> })),
                    Part::Button => Some(Either::Right(view! {
                        <button id="button" on:click=move |_| clicks.update(|n| *n += 1)>"go"</button>
                    })),
                })}
                <span id="after">"]"</span>
            </div>
        }
    })
    .forget();
    settle().await;
    assert_eq!(text(&root), "[one]");
    let before = the(&root, "#before").unwrap();
    let first = the(&root, "#words").unwrap();

    // The same branch with other words: a new element, in the same place.
    part.set(Part::Words("two"));
    settle().await;
    assert_eq!(text(&root), "[two]");
    let second = the(&root, "#words").unwrap();
    assert!(
        !second.is_same_node(Some(&first)),
        "built again, not patched"
    );
    assert!(!first.is_connected(), "the old one is gone");
    assert!(before.is_same_node(the(&root, "#before").as_ref().map(|e| e.as_ref())));

    // To nothing and back, and to another branch, which still answers.
    part.set(Part::Nothing);
    settle().await;
    assert_eq!(text(&root), "[]");
    assert!(the(&root, "#words").is_none());
    part.set(Part::Button);
    settle().await;
    assert_eq!(text(&root), "[go]");
    let button: HtmlElement = the(&root, "#button").unwrap().unchecked_into();
    button.click();
    settle().await;
    assert_eq!(clicks.get_untracked(), 1);
    part.set(Part::Words("three"));
    settle().await;
    assert_eq!(text(&root), "[three]");
    assert!(the(&root, "#button").is_none(), "the button is gone");
    root.remove();
}
