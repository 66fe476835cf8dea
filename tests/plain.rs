//! `Plain` in a real browser: a template's elements, attributes and words
//! as written, its parts left out when their word is empty, words always as
//! text (never as markup), and a plain view replaced in its place when the
//! closure that returns it runs again.
#![cfg(target_arch = "wasm32")]

use kasse_web::fresh::Fresh;
use kasse_web::plain::Tpl::{El, If, Text};
use kasse_web::plain::Val::{Arg, Is};
use kasse_web::plain::{Plain, Tpl};
use leptos::prelude::*;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

mod common;
use common::{new_root, settle};

wasm_bindgen_test_configure!(run_in_browser);

const CARD: &[Tpl] = &[
    El(
        "div",
        &[("class", Is("card")), ("id", Arg(0))],
        &[
            El("h1", &[], &[Text(Arg(1))]),
            If(2, &[El("a", &[("href", Arg(2))], &[Text(Is("back"))])]),
        ],
    ),
    El("p", &[("role", Is("status"))], &[Text(Arg(3))]),
];

fn html(root: &HtmlElement) -> String {
    root.inner_html()
}

#[wasm_bindgen_test]
async fn a_template_is_built_as_written_and_its_words_stay_text() {
    let root = new_root();
    let args = RwSignal::new([
        "card-1",
        "Tea & <b>cake</b>",
        "https://shop.example/?a=1&b=\"2\"",
        "paid",
    ]);
    leptos::mount::mount_to(root.clone(), move || {
        view! {
            <main>
                <span id="before">"["</span>
                {move || Fresh(Plain::new(CARD, &args.get()))}
                <span id="after">"]"</span>
            </main>
        }
    })
    .forget();
    settle().await;
    assert_eq!(
        html(&root),
        "<main><span id=\"before\">[</span>\
         <div class=\"card\" id=\"card-1\"><h1>Tea &amp; &lt;b&gt;cake&lt;/b&gt;</h1>\
         <a href=\"https://shop.example/?a=1&amp;b=&quot;2&quot;\">back</a></div>\
         <p role=\"status\">paid</p>\
         <span id=\"after\">]</span></main>"
    );
    assert!(
        root.query_selector("b").unwrap().is_none(),
        "a word is never markup"
    );
    // As HTML, the same.
    assert_eq!(
        Plain::new(CARD, &["card-1", "<b>", "", "paid"]).to_html(),
        "<div class=\"card\" id=\"card-1\"><h1>&lt;b&gt;</h1></div><p role=\"status\">paid</p>"
    );

    // Built again with other words, in the same place; the empty word
    // leaves its part out.
    args.set(["card-2", "Coffee", "", "still paid"]);
    settle().await;
    assert_eq!(
        html(&root),
        "<main><span id=\"before\">[</span>\
         <div class=\"card\" id=\"card-2\"><h1>Coffee</h1></div>\
         <p role=\"status\">still paid</p>\
         <span id=\"after\">]</span></main>"
    );
}
