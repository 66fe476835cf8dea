fn main() {
    leptos::mount::mount_to_body(kasse_web::App);
}
