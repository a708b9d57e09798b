//! Themes: every built-in and every themes/*.toml parses; broken theme files are clear errors;
//! a missing style falls back to `text`; critical never looks green and ok never looks red.

use ratatui::style::{Color, Style};
use std::path::{Path, PathBuf};
use std::process::Command;
use warroom::ui::theme::{self, BUILTIN, StyleName, Theme, ThemeError};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn theme_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("themes"))
        .expect("themes/")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// Every shipped theme: the built-ins by name and the files by path.
fn shipped() -> Vec<(String, Theme)> {
    let mut v: Vec<(String, Theme)> = BUILTIN
        .iter()
        .map(|(n, _)| {
            let t = Theme::load(n).unwrap_or_else(|e| panic!("built-in theme {n}: {e}"));
            (format!("built-in {n}"), t)
        })
        .collect();
    for p in theme_files() {
        let s = p.display().to_string();
        let t = Theme::load(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        v.push((s, t));
    }
    v
}

/// A theme file written to a temp dir, loaded by path; the error as the operator reads it.
fn load_file(dir: &tempfile::TempDir, name: &str, text: &str) -> (String, Result<Theme, String>) {
    let p = dir.path().join(name);
    std::fs::write(&p, text).expect("write theme");
    let s = p.display().to_string();
    let r = Theme::load(&s).map_err(|e| e.to_string());
    (s, r)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

#[test]
fn every_builtin_parses_under_its_own_name() {
    let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
    for want in ["default", "light", "high-contrast"] {
        assert!(names.contains(&want), "built-ins {names:?} lack {want}");
    }
    for (n, text) in BUILTIN {
        let t = theme::parse(text, n).unwrap_or_else(|e| panic!("built-in {n}: {e}"));
        assert_eq!(&t.name, n, "the file's name matches its built-in name");
        assert!(!t.description.is_empty(), "{n} has a description");
        let l = Theme::load(n).unwrap_or_else(|e| panic!("Theme::load({n}): {e}"));
        assert_eq!(l.name, t.name);
    }
}

#[test]
fn every_theme_file_parses_and_is_built_in() {
    let files = theme_files();
    assert!(files.len() >= 3, "themes/*.toml: {files:?}");
    for p in &files {
        let s = p.display().to_string();
        let t = Theme::load(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        assert_eq!(t.name, stem, "{s}: the theme's name is its file name");
        // The binary ships exactly what is in the file.
        let text = std::fs::read_to_string(p).unwrap();
        assert!(
            BUILTIN.iter().any(|(n, b)| *n == stem && *b == text),
            "{s} is not the built-in {stem}"
        );
    }
}

#[test]
fn every_shipped_theme_styles_the_meaningful_names() {
    for (origin, t) in shipped() {
        let text = t.get(StyleName::Text);
        assert!(text.fg.is_some(), "{origin}: text has a colour");
        for n in [
            StyleName::MetricOk,
            StyleName::MetricWarning,
            StyleName::MetricCritical,
            StyleName::AlertCritical,
            StyleName::GatePass,
            StyleName::GateBlocked,
        ] {
            assert_ne!(t.get(n), text, "{origin}: {n} looks like plain text");
        }
    }
}

#[test]
fn unknown_theme_name_lists_the_builtins() {
    let e = Theme::load("no-such")
        .expect_err("no-such is not a theme")
        .to_string();
    assert!(e.contains("no theme `no-such`"), "{e}");
    for (n, _) in BUILTIN {
        assert!(e.contains(n), "{e} should list {n}");
    }
    assert!(e.contains("default, light, high-contrast"), "{e}");
}

#[test]
fn missing_theme_file_names_the_file() {
    let d = tmp();
    let p = d.path().join("gone.toml").display().to_string();
    let e = Theme::load(&p).expect_err("a missing file");
    assert!(matches!(e, ThemeError::Unreadable { .. }), "{e:?}");
    let e = e.to_string();
    assert!(e.starts_with(&p), "{e}");
    assert!(e.contains("cannot read theme"), "{e}");
}

#[test]
fn invalid_toml_names_the_file_and_the_line() {
    let d = tmp();
    let (p, r) = load_file(
        &d,
        "broken.toml",
        "name = \"broken\"\n[styles]\ntext = { fg = \"#ffffff\"\n",
    );
    let e = r.expect_err("invalid TOML");
    assert!(e.starts_with(&format!("{p}:3: invalid theme:")), "{e}");
}

#[test]
fn unknown_key_in_a_theme_file_is_an_error() {
    let d = tmp();
    let (p, r) = load_file(
        &d,
        "typo.toml",
        "name = \"typo\"\n[styles]\ntext = { fg = \"red\", bolt = true }\n",
    );
    let e = r.expect_err("unknown key `bolt`");
    assert!(e.starts_with(&format!("{p}:3: invalid theme:")), "{e}");
    assert!(e.contains("bolt"), "{e}");
}

#[test]
fn unknown_style_name_lists_the_known_ones() {
    let d = tmp();
    let (p, r) = load_file(
        &d,
        "style.toml",
        "name = \"style\"\n[styles]\n\"metric.critcal\" = { fg = \"red\" }\n",
    );
    let e = r.expect_err("unknown style name");
    assert!(
        e.starts_with(&format!("{p}: unknown style name `metric.critcal`")),
        "{e}"
    );
    assert!(e.contains("metric.critical"), "lists the known names: {e}");
    // Told apart by its kind, not by its words.
    let r = theme::parse("name = \"x\"\n[styles]\n\"metric.critcal\" = {}\n", "x");
    assert!(
        matches!(&r, Err(ThemeError::UnknownStyleName { key, .. }) if key == "metric.critcal"),
        "{r:?}"
    );
}

#[test]
fn bad_colour_names_the_file_and_the_colour() {
    let d = tmp();
    for (name, colour) in [
        ("hex.toml", "#12345"),
        ("word.toml", "reddish"),
        ("nothex.toml", "#gggggg"),
    ] {
        let (p, r) = load_file(
            &d,
            name,
            &format!("name = \"x\"\n[styles]\ntext = {{ fg = \"{colour}\" }}\n"),
        );
        let e = r.err().unwrap_or_else(|| panic!("{colour} is no colour"));
        assert!(e.starts_with(&format!("{p}: ")), "{e}");
        assert!(
            e.contains(&format!("`{colour}` is not a colour or a palette name")),
            "{e}"
        );
        assert!(e.contains("style `text` fg"), "names the key: {e}");
    }
    // A palette entry that is no colour, used by a style.
    let (p, r) = load_file(
        &d,
        "palette.toml",
        "name = \"x\"\n[palette]\ncrit = \"blood\"\n[styles]\ntext = { fg = \"crit\" }\n",
    );
    let e = r.expect_err("bad palette colour");
    assert!(e.starts_with(&format!("{p}: ")), "{e}");
    assert!(e.contains("`blood`"), "{e}");
    assert!(e.contains("style `text` fg") && e.contains("`crit`"), "{e}");
}

#[test]
fn unknown_inherits_names_the_file_and_the_parent() {
    let d = tmp();
    let (p, r) = load_file(
        &d,
        "child.toml",
        "name = \"child\"\ninherits = \"dark-ish\"\n",
    );
    let e = r.expect_err("unknown parent");
    assert_eq!(e, format!("{p}: inherits unknown theme `dark-ish`"));
    // Inheriting itself is a loop, not a stack overflow.
    let (p, r) = load_file(&d, "self.toml", "name = \"self\"\ninherits = \"self\"\n");
    let e = r.expect_err("a loop");
    assert!(
        e.starts_with(&format!("{p}: ")) && e.contains("loop"),
        "{e}"
    );
}

#[test]
fn a_theme_inheriting_a_builtin_takes_its_styles() {
    let d = tmp();
    let (_, r) = load_file(
        &d,
        "mine.toml",
        "name = \"mine\"\ninherits = \"default\"\n[palette]\ncrit = \"#ff0000\"\n",
    );
    let t = r.expect("inherits default");
    let base = Theme::load("default").unwrap();
    assert_eq!(t.get(StyleName::MetricOk), base.get(StyleName::MetricOk));
    // The parent's styles resolve against the child's palette.
    assert_eq!(
        t.get(StyleName::MetricCritical).fg,
        Some(Color::Rgb(0xff, 0, 0))
    );
}

#[test]
fn a_missing_style_falls_back_to_text() {
    let d = tmp();
    let (_, r) = load_file(
        &d,
        "sparse.toml",
        "name = \"sparse\"\n[styles]\ntext = { fg = \"#102030\", bg = \"#000000\" }\n\"metric.critical\" = { fg = \"red\", bold = true }\n",
    );
    let t = r.expect("a sparse theme is valid");
    let text = t.get(StyleName::Text);
    assert_eq!(text.fg, Some(Color::Rgb(0x10, 0x20, 0x30)));
    for &n in StyleName::ALL {
        if n != StyleName::Text && n != StyleName::MetricCritical {
            assert_eq!(t.get(n), text, "{n} falls back to text");
        }
    }
    assert_ne!(t.get(StyleName::MetricCritical), text);
    // A theme with no styles at all gives the terminal's default.
    let (_, r) = load_file(&d, "bare.toml", "name = \"bare\"\n");
    assert_eq!(r.expect("bare").get(StyleName::MetricOk), Style::default());
}

/// The colour that carries a style's meaning: its background when it has one (a banner), else
/// its foreground.
fn signal(s: Style) -> Option<Color> {
    s.bg.or(s.fg)
}

fn reddish(c: Color) -> bool {
    match c {
        Color::Rgb(r, g, _) => r > g,
        Color::Red | Color::LightRed | Color::Magenta | Color::LightMagenta => true,
        _ => false,
    }
}

fn greenish(c: Color) -> bool {
    match c {
        Color::Rgb(r, g, b) => g > r && g >= b,
        Color::Green | Color::LightGreen => true,
        _ => false,
    }
}

#[test]
fn critical_is_never_green_and_ok_is_never_red() {
    for (origin, t) in shipped() {
        for n in [
            StyleName::MetricCritical,
            StyleName::AlertCritical,
            StyleName::GateBlocked,
            StyleName::PoolDown,
        ] {
            let s = t.get(n);
            let c = signal(s).unwrap_or_else(|| panic!("{origin}: {n} has no colour"));
            assert!(reddish(c), "{origin}: {n} is {c:?}, not red");
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(!greenish(c), "{origin}: {n} uses green-ish {c:?}");
                if let Color::Rgb(r, g, _) = c
                    && Some(c) == signal(s)
                {
                    assert!(r > g, "{origin}: {n} {c:?}: red channel must exceed green");
                }
            }
        }
        for n in [StyleName::MetricOk, StyleName::GatePass] {
            let s = t.get(n);
            for c in [s.fg, s.bg].into_iter().flatten() {
                assert!(!reddish(c), "{origin}: {n} is red-ish {c:?}");
            }
            let c = signal(s).unwrap_or_else(|| panic!("{origin}: {n} has no colour"));
            assert!(greenish(c), "{origin}: {n} is {c:?}, not green");
        }
    }
}

#[test]
fn warroom_themes_lists_the_builtins() {
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("themes")
        .output()
        .expect("run warroom themes");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(!stdout.contains("BROKEN"), "{stdout}");
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names, ["default", "light", "high-contrast"], "{stdout}");
    for l in stdout.lines() {
        assert!(
            l.split_whitespace().count() > 1,
            "each theme has a description: {l:?}"
        );
    }
}

#[test]

fn inheriting_a_theme_that_inherits_keeps_the_whole_chain() {
    let d = tmp();
    let (_, r) = load_file(&d, "mine.toml", "name = \"mine\"\ninherits = \"light\"\n");
    let t = r.expect("inherits light");
    let light = Theme::load("light").unwrap();
    for &n in StyleName::ALL {
        assert_eq!(t.get(n), light.get(n), "{n} as in light");
    }
}
