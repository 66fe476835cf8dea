//! The demo's mail server: `kasse-mail-sink ADDR DIR` accepts every message
//! over STARTTLS on ADDR and writes each to DIR as a numbered `.eml` file.
//! It prints the CA file that Kasse must trust (`KASSE_SMTP_CA_FILE`) and
//! runs until stopped.

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: kasse-mail-sink 127.0.0.1:2525 target/demo-mail");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).expect("the mail directory");
    let listener = std::net::TcpListener::bind(&addr).unwrap_or_else(|e| {
        eprintln!("cannot listen on {addr}: {e}");
        std::process::exit(1);
    });
    let sink = kasse_testkit::smtp::SmtpSink::start_on(listener, Some(&dir));
    if let Ok(codes) = std::env::var("SINK_ANSWERS") {
        sink.answer(
            &codes
                .split(',')
                .filter_map(|c| c.parse().ok())
                .collect::<Vec<u16>>(),
        );
    }
    let ca = dir.join("ca.pem");
    std::fs::copy(sink.ca_file(), &ca).expect("the CA file");
    println!(
        "mail sink on {} (STARTTLS); mail lands in {} as .eml files; CA: {}",
        sink.url(),
        dir.display(),
        ca.display()
    );
    loop {
        std::thread::park();
    }
}
