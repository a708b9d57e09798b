//! The layers are crates, and their dependencies say which way the arrows go (ARCHITECTURE.md).
//! This test reads each crate's manifest: a dependency the wrong way, or an IO, async, database,
//! HTTP or terminal crate in the core, fails it.

use std::collections::BTreeSet;

fn deps(krate: &str) -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let manifest: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    manifest
        .get("dependencies")
        .and_then(|d| d.as_table())
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default()
}

fn ours(d: &BTreeSet<String>) -> BTreeSet<&str> {
    d.iter()
        .filter_map(|n| n.strip_prefix("warroom-"))
        .collect()
}

#[test]
fn the_core_is_pure() {
    let d = deps("core");
    for impure in [
        "tokio",
        "sqlx",
        "rusqlite",
        "reqwest",
        "kube",
        "k8s-openapi",
        "ratatui",
        "crossterm",
        "tui-logger",
        "libc",
        "dirs",
    ] {
        assert!(!d.contains(impure), "the core depends on {impure}");
    }
    assert!(ours(&d).is_empty(), "the core depends on {:?}", ours(&d));
}

#[test]
fn every_layer_depends_only_downward() {
    let allowed: [(&str, &[&str]); 4] = [
        ("store", &["core"]),
        ("adapters", &["core"]),
        ("app", &["core", "store", "adapters"]),
        ("ui", &["core", "store", "app"]),
    ];
    for (krate, may) in allowed {
        let d = deps(krate);
        for dep in ours(&d) {
            assert!(may.contains(&dep), "{krate} depends on {dep}");
        }
    }
    // The UI never starts an adapter: no client crate of a real system either.
    let ui = deps("ui");
    for client in ["reqwest", "kube", "sqlx", "rusqlite"] {
        assert!(!ui.contains(client), "the UI depends on {client}");
    }
}
