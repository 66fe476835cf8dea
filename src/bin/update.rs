//! The card update page's bundle (`update.html`, served at `/update/{id}`).

fn main() {
    leptos::mount::mount_to_body(kasse_web::UpdateApp);
}
