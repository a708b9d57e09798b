//! Themes: TOML files of semantic style names (`phase.active`, `gate.blocked`, …) over a
//! palette. A theme may inherit another; a missing name falls back to `text`.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The themes shipped inside the binary (the files in themes/).
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
];

/// Every style name the screen uses. A theme file naming anything else is an error.
pub const NAMES: &[&str] = &[
    "text",
    "muted",
    "title",
    "border",
    "border.focus",
    "selected",
    "key",
    "status",
    "replay",
    "phase.pending",
    "phase.active",
    "phase.done",
    "phase.overrun",
    "metric.ok",
    "metric.warning",
    "metric.critical",
    "metric.stale",
    "gate.pass",
    "gate.blocked",
    "gate.confirm",
    "pool.blue",
    "pool.green",
    "pool.active",
    "pool.healthy",
    "pool.down",
    "flag.on",
    "flag.off",
    "alert.none",
    "alert.warning",
    "alert.critical",
    "action.running",
    "action.failed",
    "dialog",
    "dialog.title",
    "input",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    inherits: Option<String>,
    #[serde(default)]
    palette: BTreeMap<String, String>,
    #[serde(default)]
    styles: BTreeMap<String, StyleSpec>,
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct StyleSpec {
    #[serde(default)]
    fg: Option<String>,
    #[serde(default)]
    bg: Option<String>,
    #[serde(default)]
    bold: bool,
    #[serde(default)]
    italic: bool,
    #[serde(default)]
    underlined: bool,
    #[serde(default)]
    reversed: bool,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: String,
    pub description: String,
    pub background: Color,
    styles: HashMap<&'static str, Style>,
}

impl Theme {
    /// The style for a semantic name; unknown names fall back to `text`.
    pub fn get(&self, name: &str) -> Style {
        self.styles
            .get(name)
            .or_else(|| self.styles.get("text"))
            .copied()
            .unwrap_or_default()
    }

    /// A theme by built-in name, or from a `.toml` file path.
    pub fn load(name_or_path: &str) -> Result<Theme, String> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return parse(text, name_or_path);
        }
        let p = Path::new(name_or_path);
        if p.extension().is_some_and(|e| e == "toml") || p.exists() {
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("{}: cannot read theme: {e}", p.display()))?;
            return parse(&text, &p.display().to_string());
        }
        Err(format!(
            "no theme `{name_or_path}`; built-in themes: {} (or give the path of a .toml theme file)",
            BUILTIN
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// Parse a theme file's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Theme, String> {
    parse_depth(text, origin, 0)
}

fn parse_depth(text: &str, origin: &str, depth: usize) -> Result<Theme, String> {
    let f: ThemeFile = toml::from_str(text).map_err(|e| {
        let place = e
            .span()
            .map(|s| {
                let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                format!(":{line}")
            })
            .unwrap_or_default();
        format!("{origin}{place}: invalid theme: {}", e.message())
    })?;
    let (mut palette, mut specs) = match &f.inherits {
        Some(parent) => inherited(parent, &f.name, origin, depth)?,
        None => Default::default(),
    };
    palette.extend(f.palette);
    for (k, v) in f.styles {
        if !NAMES.contains(&k.as_str()) {
            return Err(format!(
                "{origin}: unknown style name `{k}`; known names: {}",
                NAMES.join(", ")
            ));
        }
        specs.insert(k, v);
    }
    let color = |s: &str| -> Result<Color, String> {
        let s = palette.get(s).map(|x| x.as_str()).unwrap_or(s);
        parse_color(s).ok_or_else(|| format!("{origin}: `{s}` is not a colour or a palette name (use #rrggbb, a palette key, or a name like red)"))
    };
    let mut styles = HashMap::new();
    for name in NAMES {
        let Some(spec) = specs.get(*name) else {
            continue;
        };
        let mut st = Style::default();
        if let Some(c) = &spec.fg {
            st = st.fg(color(c)?);
        }
        if let Some(c) = &spec.bg {
            st = st.bg(color(c)?);
        }
        for (on, m) in [
            (spec.bold, Modifier::BOLD),
            (spec.italic, Modifier::ITALIC),
            (spec.underlined, Modifier::UNDERLINED),
            (spec.reversed, Modifier::REVERSED),
        ] {
            if on {
                st = st.add_modifier(m);
            }
        }
        styles.insert(*name, st);
    }
    let background = match palette.get("bg") {
        Some(b) => color(b)?,
        None => Color::Reset,
    };
    Ok(Theme {
        name: f.name,
        description: f.description.unwrap_or_default(),
        background,
        styles,
    })
}

type Palette = BTreeMap<String, String>;
type Specs = BTreeMap<String, StyleSpec>;

/// The palette and styles of built-in theme `parent`, with everything it inherits in turn.
fn inherited(
    parent: &str,
    name: &str,
    origin: &str,
    depth: usize,
) -> Result<(Palette, Specs), String> {
    if depth > 4 || parent == name {
        return Err(format!("{origin}: theme inheritance loops at `{parent}`"));
    }
    let Some((_, ptext)) = BUILTIN.iter().find(|(n, _)| *n == parent) else {
        return Err(format!("{origin}: inherits unknown theme `{parent}`"));
    };
    resolved(ptext, parent, depth + 1)
}

/// A built-in theme's palette and styles with everything it inherits.
fn resolved(text: &str, origin: &str, depth: usize) -> Result<(Palette, Specs), String> {
    let f: ThemeFile = toml::from_str(text).map_err(|e| format!("{origin}: {e}"))?;
    let (mut palette, mut specs) = match &f.inherits {
        Some(parent) => inherited(parent, &f.name, origin, depth)?,
        None => Default::default(),
    };
    palette.extend(f.palette);
    specs.extend(f.styles);
    Ok((palette, specs))
}

fn parse_color(s: &str) -> Option<Color> {
    if let Some(hex) = s.strip_prefix('#') {
        if hex.len() != 6 {
            return None;
        }
        let v = u32::from_str_radix(hex, 16).ok()?;
        return Some(Color::Rgb((v >> 16) as u8, (v >> 8) as u8, v as u8));
    }
    s.parse::<Color>().ok()
}
