//! The server's modules import one another without cycles: between the
//! top-level modules of `server/src` (http → domain → store, never back),
//! and between the modules of one folder (no two route files leaning on
//! each other). Read from the source, as a reader would follow `use` lines.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// `src/a/b.rs` → `a::b`; `src/a/mod.rs` → `a`; `src/lib.rs` → ``.
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(SRC).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn parent(module: &str) -> &str {
    module.rsplit_once("::").map_or("", |(p, _)| p)
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_string()
    } else {
        format!("{a}::{b}")
    }
}

/// The code of a file without comments, strings and its `#[cfg(test)]` tail.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or(text);
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path a file names from `crate::` or `super::`, with `{…}` groups
/// expanded one level: `use super::{a, b::c}` names `super::a` and
/// `super::b::c`.
fn named_paths(code: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for root in ["crate::", "super::"] {
        let mut rest = code;
        while let Some(at) = rest.find(root) {
            let preceded_by_ident = rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let after = &rest[at + root.len()..];
            rest = after;
            if preceded_by_ident {
                continue;
            }
            let kind = root.trim_end_matches("::").to_string();
            if let Some(group) = after.strip_prefix('{') {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                for item in inner.split(',') {
                    let segments = segments(item.trim());
                    if !segments.is_empty() {
                        found.push((kind.clone(), segments));
                    }
                }
            } else {
                found.push((kind, segments(after)));
            }
        }
    }
    found
}

fn segments(path: &str) -> Vec<String> {
    let end = path
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or(path.len());
    path[..end]
        .split("::")
        .filter(|s| !s.is_empty() && *s != "self")
        .map(str::to_string)
        .collect()
}

/// The module a path names: its longest prefix that is a module.
fn resolve(base: &str, segments: &[String], modules: &BTreeSet<String>) -> Option<String> {
    (1..=segments.len())
        .rev()
        .map(|n| {
            segments[..n]
                .iter()
                .fold(base.to_string(), |m, s| join(&m, s))
        })
        .find(|candidate| modules.contains(candidate))
}

fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(found) = visit(node, edges, &mut Vec::new(), &mut done) {
            return Some(found);
        }
    }
    None
}

/// What each folder's module re-exports from its children: `pub use
/// extract::{ApiJson, MerchantAuth}` in `http` makes `http::ApiJson` a name
/// of `http::extract`.
fn reexports(all: &[PathBuf], modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for file in all.iter().filter(|f| f.ends_with("mod.rs")) {
        let module = module_of(file);
        let text = code(&std::fs::read_to_string(file).unwrap());
        for statement in text.split(';') {
            let Some(path) = statement.trim().strip_prefix("pub use ") else {
                continue;
            };
            let path = path.trim_start_matches("self::");
            let (child, items) = match path.split_once("::{") {
                Some((child, items)) => (child, items.trim_end_matches('}')),
                None => match path.rsplit_once("::") {
                    Some((child, item)) => (child, item),
                    None => continue,
                },
            };
            let child = join(&module, child);
            if !modules.contains(&child) {
                continue;
            }
            for item in items.split(',') {
                let name = item.split(" as ").last().unwrap_or("").trim();
                if !name.is_empty() {
                    out.insert(join(&module, name), child.clone());
                }
            }
        }
    }
    out
}

/// (from, to) for every import between two different modules.
fn imports() -> Vec<(String, String)> {
    let mut all = Vec::new();
    files(Path::new(SRC), &mut all);
    let modules: BTreeSet<String> = all.iter().map(|f| module_of(f)).collect();
    let reexported = reexports(&all, &modules);
    let mut out = Vec::new();
    for file in &all {
        let from = module_of(file);
        if from.is_empty() {
            continue;
        }
        for (kind, segments) in named_paths(&code(&std::fs::read_to_string(file).unwrap())) {
            // `super` is the module above this one, whether it is a file
            // (`a/b.rs`) or a folder (`a/b/mod.rs`).
            let base = if kind == "crate" { "" } else { parent(&from) };
            let through = segments
                .first()
                .and_then(|first| reexported.get(&join(base, first)))
                .cloned();
            if let Some(to) = through.or_else(|| resolve(base, &segments, &modules))
                && to != from
                && !to.is_empty()
            {
                out.push((from.clone(), to));
            }
        }
    }
    out
}

#[test]
fn the_top_level_modules_import_each_other_without_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in imports() {
        let (a, b) = (top(&from), top(&to));
        if a != b {
            edges.entry(a).or_default().insert(b);
        }
    }
    assert!(edges.contains_key("http"), "the graph was read: {edges:?}");
    assert_eq!(cycle(&edges), None, "the graph: {edges:#?}");
}

#[test]
fn the_modules_of_one_folder_import_each_other_without_a_cycle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in imports() {
        // Siblings only: a folder's own module may use its children.
        if parent(&from) == parent(&to) && !parent(&from).is_empty() {
            edges.entry(from).or_default().insert(to);
        }
    }
    assert!(edges.contains_key("http::payments"), "{edges:?}");
    assert_eq!(cycle(&edges), None, "the graph: {edges:#?}");
}

fn top(module: &str) -> String {
    module.split("::").next().unwrap_or("").to_string()
}

#[test]
fn a_cycle_is_found_where_there_is_one() {
    let edges = BTreeMap::from([
        ("a".to_string(), BTreeSet::from(["b".to_string()])),
        ("b".to_string(), BTreeSet::from(["c".to_string()])),
        ("c".to_string(), BTreeSet::from(["a".to_string()])),
    ]);
    assert_eq!(
        cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let tree = BTreeMap::from([("a".to_string(), BTreeSet::from(["b".to_string()]))]);
    assert_eq!(cycle(&tree), None);
    assert_eq!(
        named_paths("use super::{a, b::c};\nlet x = crate::d::e(1);"),
        vec![
            ("crate".to_string(), vec!["d".to_string(), "e".to_string()]),
            ("super".to_string(), vec!["a".to_string()]),
            ("super".to_string(), vec!["b".to_string(), "c".to_string()]),
        ]
    );
}
