fn main() {
    // The card update page shares the payment page's build.
    let path = leptos::prelude::window()
        .location()
        .pathname()
        .unwrap_or_default();
    if path.starts_with("/update/") {
        leptos::mount::mount_to_body(kasse_web::UpdateApp);
    } else {
        leptos::mount::mount_to_body(kasse_web::App);
    }
}
