//! The front end trunk built (`dist/`): each page's HTML, read once at
//! start, and the Content-Security-Policy that allows exactly its scripts.

use base64::Engine;
use sha2::{Digest, Sha256};

/// The page's HTML and the Content-Security-Policy that allows exactly its
/// own scripts: files from this origin, WebAssembly, and the hashes of the
/// inline bootstrap that trunk writes.
pub struct HostedPage {
    html: Option<String>,
    csp: String,
    pub(crate) static_dir: std::path::PathBuf,
}

impl HostedPage {
    /// The payment page, `index.html`.
    pub fn load(static_dir: &std::path::Path) -> Self {
        Self::load_file(static_dir, "index.html")
    }

    /// A page trunk built into `static_dir`: `index.html`, `update/index.html`,
    /// `terminal/index.html`.
    pub fn load_file(static_dir: &std::path::Path, file: &str) -> Self {
        let html = std::fs::read_to_string(static_dir.join(file)).ok();
        if html.is_none() {
            tracing::warn!(dir = %static_dir.display(), file, "a page is not built; run `make run`");
        }
        let hashes: String = html
            .as_deref()
            .map(inline_scripts)
            .unwrap_or_default()
            .iter()
            .map(|body| format!(" {}", csp_source(body)))
            .collect();
        // `frame-ancestors` is appended per request: see `frame_ancestors`.
        let csp = format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
             img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; \
             form-action 'none'"
        );
        Self {
            html,
            csp,
            static_dir: static_dir.to_path_buf(),
        }
    }

    pub fn csp(&self) -> &str {
        &self.csp
    }

    pub fn html(&self) -> Option<&str> {
        self.html.as_deref()
    }
}

/// The Content-Security-Policy source that allows exactly this inline
/// script: `'sha256-…'`.
pub fn csp_source(script: &str) -> String {
    let digest = Sha256::digest(script.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The bodies of `<script>` elements that have no `src`.
fn inline_scripts(html: &str) -> Vec<&str> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(open_end) = after.find('>') else {
            break;
        };
        let open_tag = &after[..open_end];
        let body_start = &after[open_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        if !open_tag.contains(" src=") {
            scripts.push(&body_start[..close]);
        }
        rest = &body_start[close..];
    }
    scripts
}

#[cfg(test)]
mod tests {
    use super::inline_scripts;

    #[test]
    fn finds_only_inline_scripts() {
        let html = r#"<head><script src="/a.js"></script><script type="module">init('/x.wasm')</script></head>
            <body><script>one()</script></body>"#;
        assert_eq!(inline_scripts(html), vec!["init('/x.wasm')", "one()"]);
    }
}
