//! Prints what the browser downloads, gzipped: checkout.js, and the payment
//! page's built files when `dist/` exists (`make run` or `make test` build it).
//! Run with `cargo bench -p kasse-server --bench asset_sizes`.

use std::io::Write;
use std::path::Path;

use flate2::Compression;
use flate2::write::GzEncoder;

fn gzipped(bytes: &[u8]) -> usize {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory").len()
}

fn main() {
    let loader = kasse_server::http::CHECKOUT_JS.as_bytes();
    println!("{:<36} {:>9} {:>9}", "asset", "bytes", "gzipped");
    println!(
        "{:<36} {:>9} {:>9}   (aim: under 3072 gzipped)",
        "checkout.js",
        loader.len(),
        gzipped(loader)
    );
    let dist = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../dist"));
    let Ok(entries) = std::fs::read_dir(dist) else {
        println!("(no dist/: build the payment page to measure it)");
        return;
    };
    let mut total = (0, 0, 0);
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    // The precompressed twins are measured with the file they belong to.
    let assets = files.iter().filter(|p| {
        p.is_file() && !matches!(p.extension().and_then(|e| e.to_str()), Some("gz" | "br"))
    });
    println!(
        "{:<36} {:>9} {:>9} {:>9}",
        "payment page (dist/)", "bytes", "gzipped", "brotli"
    );
    for path in assets {
        let bytes = std::fs::read(path).expect("readable");
        let packed = gzipped(&bytes);
        let mut twin = path.clone().into_os_string();
        twin.push(".br");
        let brotli = std::fs::metadata(&twin).map_or(packed, |m| m.len() as usize);
        let name = path.file_name().unwrap().to_string_lossy();
        println!(
            "{:<36} {:>9} {:>9} {:>9}",
            name,
            bytes.len(),
            packed,
            brotli
        );
        total = (total.0 + bytes.len(), total.1 + packed, total.2 + brotli);
    }
    println!(
        "{:<36} {:>9} {:>9} {:>9}   (aim: under 122880 gzipped)",
        "payment page, in all", total.0, total.1, total.2
    );
}
