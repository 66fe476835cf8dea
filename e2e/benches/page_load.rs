//! How long a customer waits for the card form, and what the browser
//! downloads for it: headless Chromium over loopback against a real kasse
//! serving `dist/` (precompressed, as in production). Prints figures; it
//! asserts nothing. Run by `make bench`.

use kasse_e2e::Harness;
use serde_json::json;

const RUNS: usize = 15;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Navigation start to the form's `kasse-interactive` mark, in ms, and the
/// bytes that came over the wire for the page's files.
async fn load_once(h: &Harness) -> anyhow::Result<(f64, serde_json::Value)> {
    let url = h.create_session(json!({})).await?;
    h.browser.goto(&url).await?;
    h.find("#card-number").await?;
    let figures = h
        .js("const mark = performance.getEntriesByName('kasse-interactive')[0];
             const files = performance.getEntriesByType('resource')
                 .filter(r => r.name.includes('/static/'))
                 .map(r => ({ name: r.name.split('/').pop(), wire: r.transferSize, body: r.encodedBodySize, size: r.decodedBodySize }));
             return { interactive: mark ? mark.startTime : null, files };")
        .await?;
    let interactive = figures["interactive"]
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("no kasse-interactive mark: {figures}"))?;
    Ok((interactive, figures["files"].clone()))
}

async fn series(h: &Harness, cold: bool) -> anyhow::Result<(Vec<f64>, serde_json::Value)> {
    h.cdp("Network.enable", json!({})).await?;
    h.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": cold }))
        .await?;
    let mut times = Vec::new();
    let mut files = json!([]);
    load_once(h).await?; // warms the server and, unless cold, the cache
    for _ in 0..RUNS {
        let (ms, f) = load_once(h).await?;
        times.push(ms);
        files = f;
    }
    times.sort_by(f64::total_cmp);
    Ok((times, files))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let h = Harness::start().await?;
    h.browser.goto(&h.url("/")).await?;
    println!(
        "Payment page, navigation to interactive card form (headless Chromium, loopback, {RUNS} loads)"
    );
    println!("{:<28} {:>9} {:>9} {:>9}", "", "p50 ms", "p90 ms", "max ms");
    let (cold, files) = series(&h, true).await?;
    let (warm, _) = series(&h, false).await?;
    for (name, times) in [("cold cache", &cold), ("warm cache (immutable)", &warm)] {
        println!(
            "{:<28} {:>9.1} {:>9.1} {:>9.1}   (aim: under 300)",
            name,
            percentile(times, 0.5),
            percentile(times, 0.9),
            times[times.len() - 1]
        );
    }
    println!();
    println!("What a cold load downloads (as the server sent it)");
    println!("{:<40} {:>9} {:>9}", "file", "on wire", "decoded");
    let mut wire = 0;
    for file in files.as_array().into_iter().flatten() {
        let on_wire = file["wire"].as_u64().unwrap_or(0);
        wire += on_wire;
        println!(
            "{:<40} {:>9} {:>9}",
            file["name"].as_str().unwrap_or("?"),
            on_wire,
            file["size"].as_u64().unwrap_or(0)
        );
    }
    println!(
        "{:<40} {:>9}   (aim: under 122880)",
        "in all, with headers", wire
    );
    h.close().await
}
