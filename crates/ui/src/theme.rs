//! Themes: TOML files of semantic style names (`phase.active`, `gate.blocked`, …) over a
//! palette. A theme may inherit another; a missing name falls back to `text`.
//!
//! The screen asks for a style by [`StyleName`], so a misspelt name is a compile error; a
//! theme file names them by their keys (`metric.ok`), and an unknown key there is an error
//! naming the file.

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use strum::{EnumCount, EnumString, IntoStaticStr, VariantArray};

/// The themes shipped inside the binary (the files in themes/).
pub const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../../themes/default.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
];

/// Every style the screen uses, by the key a theme file gives it (`metric.ok`). A theme file
/// naming anything else is an error; the order is the one the error lists them in.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    strum::Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
    EnumCount,
)]
pub enum StyleName {
    #[strum(serialize = "text")]
    Text,
    #[strum(serialize = "muted")]
    Muted,
    #[strum(serialize = "title")]
    Title,
    #[strum(serialize = "border")]
    Border,
    #[strum(serialize = "border.focus")]
    BorderFocus,
    #[strum(serialize = "selected")]
    Selected,
    #[strum(serialize = "key")]
    Key,
    #[strum(serialize = "status")]
    Status,
    #[strum(serialize = "replay")]
    Replay,
    #[strum(serialize = "phase.pending")]
    PhasePending,
    #[strum(serialize = "phase.active")]
    PhaseActive,
    #[strum(serialize = "phase.done")]
    PhaseDone,
    #[strum(serialize = "phase.overrun")]
    PhaseOverrun,
    #[strum(serialize = "metric.ok")]
    MetricOk,
    #[strum(serialize = "metric.warning")]
    MetricWarning,
    #[strum(serialize = "metric.critical")]
    MetricCritical,
    #[strum(serialize = "metric.stale")]
    MetricStale,
    #[strum(serialize = "gate.pass")]
    GatePass,
    #[strum(serialize = "gate.blocked")]
    GateBlocked,
    #[strum(serialize = "gate.confirm")]
    GateConfirm,
    /// The Next line's label (`NEXT`): the one thing on the hint bar to read first.
    #[strum(serialize = "next")]
    Next,
    /// The Next line's words.
    #[strum(serialize = "next.text")]
    NextText,
    #[strum(serialize = "pool.blue")]
    PoolBlue,
    #[strum(serialize = "pool.green")]
    PoolGreen,
    #[strum(serialize = "pool.active")]
    PoolActive,
    #[strum(serialize = "pool.healthy")]
    PoolHealthy,
    #[strum(serialize = "pool.down")]
    PoolDown,
    #[strum(serialize = "flag.on")]
    FlagOn,
    #[strum(serialize = "flag.off")]
    FlagOff,
    #[strum(serialize = "alert.none")]
    AlertNone,
    #[strum(serialize = "alert.warning")]
    AlertWarning,
    #[strum(serialize = "alert.critical")]
    AlertCritical,
    #[strum(serialize = "action.running")]
    ActionRunning,
    #[strum(serialize = "action.failed")]
    ActionFailed,
    #[strum(serialize = "dialog")]
    Dialog,
    #[strum(serialize = "dialog.title")]
    DialogTitle,
    #[strum(serialize = "input")]
    Input,
}

impl StyleName {
    /// Every style name, in the order a theme file's error lists them.
    pub const ALL: &'static [StyleName] = StyleName::VARIANTS;

    /// The key a theme file gives this style (`metric.ok`).
    pub fn key(self) -> &'static str {
        self.into()
    }
}

/// Why a theme did not load. Each names the file (or the name asked for), the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error(
        "no theme `{name}`; built-in themes: {} (or give the path of a .toml theme file)",
        builtin_names()
    )]
    NoSuchTheme { name: String },
    #[error("{path}: cannot read theme: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    /// Not TOML, or a key a theme file does not have (`bolt = true`).
    #[error("{origin}{}: invalid theme: {message}", .line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        origin: String,
        line: Option<usize>,
        message: String,
    },
    #[error("{origin}: unknown style name `{key}`; known names: {}", style_keys())]
    UnknownStyleName { origin: String, key: String },
    /// `place` is where the colour is given: ``style `text` fg``, ``palette `bg` ``.
    #[error(
        "{origin}: {place}: `{value}` is not a colour or a palette name (use #rrggbb, a palette key, or a name like red)"
    )]
    NotAColour {
        origin: String,
        place: String,
        value: String,
    },
    #[error(
        "{origin}: {place} is palette colour `{key}` = `{value}`, which is not a colour (give `{key}` a #rrggbb or a name like red)"
    )]
    PaletteNotAColour {
        origin: String,
        place: String,
        key: String,
        value: String,
    },
    #[error("{origin}: theme inheritance loops at `{parent}`")]
    InheritanceLoop { origin: String, parent: String },
    #[error("{origin}: inherits unknown theme `{parent}`")]
    UnknownParent { origin: String, parent: String },
}

fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

fn style_keys() -> String {
    StyleName::ALL
        .iter()
        .map(|n| n.key())
        .collect::<Vec<_>>()
        .join(", ")
}

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
    /// Indexed by `StyleName as usize`; `None` where the theme does not style the name.
    styles: [Option<Style>; StyleName::COUNT],
}

impl Theme {
    /// The style for a semantic name; a name the theme does not style falls back to `text`.
    ///
    /// ```
    /// use warroom_ui::theme::{StyleName, Theme};
    /// let th = Theme::load("default").expect("built in");
    /// assert_ne!(th.get(StyleName::MetricCritical), th.get(StyleName::Text));
    /// ```
    ///
    /// A name is a `StyleName`, so a misspelt one does not compile (it cannot fall back):
    ///
    /// ```compile_fail
    /// use warroom_ui::theme::{StyleName, Theme};
    /// let th = Theme::load("default").expect("built in");
    /// th.get(StyleName::MetricCritcal);
    /// ```
    pub fn get(&self, name: StyleName) -> Style {
        self.styles[name as usize]
            .or(self.styles[StyleName::Text as usize])
            .unwrap_or_default()
    }

    /// A theme by built-in name, or from a `.toml` file path.
    pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return parse(text, name_or_path);
        }
        let p = Path::new(name_or_path);
        if p.extension().is_some_and(|e| e == "toml") || p.exists() {
            let text = std::fs::read_to_string(p).map_err(|source| ThemeError::Unreadable {
                path: p.display().to_string(),
                source,
            })?;
            return parse(&text, &p.display().to_string());
        }
        Err(ThemeError::NoSuchTheme {
            name: name_or_path.to_string(),
        })
    }
}

/// Parse a theme file's text; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<Theme, ThemeError> {
    parse_depth(text, origin, 0)
}

fn parse_depth(text: &str, origin: &str, depth: usize) -> Result<Theme, ThemeError> {
    let f = theme_file(text, origin)?;
    let (mut palette, mut specs) = match &f.inherits {
        Some(parent) => inherited(parent, &f.name, origin, depth)?,
        None => Default::default(),
    };
    palette.extend(f.palette);
    for (k, v) in f.styles {
        if k.parse::<StyleName>().is_err() {
            return Err(ThemeError::UnknownStyleName {
                origin: origin.to_string(),
                key: k,
            });
        }
        specs.insert(k, v);
    }
    let colour = |place: &str, c: &str| colour(&palette, origin, place, c);
    let mut styles = [None; StyleName::COUNT];
    for &name in StyleName::ALL {
        let Some(spec) = specs.get(name.key()) else {
            continue;
        };
        let mut st = Style::default();
        if let Some(c) = &spec.fg {
            st = st.fg(colour(&format!("style `{name}` fg"), c)?);
        }
        if let Some(c) = &spec.bg {
            st = st.bg(colour(&format!("style `{name}` bg"), c)?);
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
        styles[name as usize] = Some(st);
    }
    let background = match palette.get("bg") {
        Some(b) => colour("palette `bg`", b)?,
        None => Color::Reset,
    };
    Ok(Theme {
        name: f.name,
        description: f.description.unwrap_or_default(),
        background,
        styles,
    })
}

/// The colour `c` names at `place` (``style `text` fg``): a palette key, `#rrggbb` or a colour
/// name (ratatui's `Color::from_str`).
fn colour(palette: &Palette, origin: &str, place: &str, c: &str) -> Result<Color, ThemeError> {
    match palette.get(c) {
        Some(v) => v
            .parse::<Color>()
            .map_err(|_| ThemeError::PaletteNotAColour {
                origin: origin.to_string(),
                place: place.to_string(),
                key: c.to_string(),
                value: v.clone(),
            }),
        None => c.parse::<Color>().map_err(|_| ThemeError::NotAColour {
            origin: origin.to_string(),
            place: place.to_string(),
            value: c.to_string(),
        }),
    }
}

/// A theme file's TOML; an error names the line.
fn theme_file(text: &str, origin: &str) -> Result<ThemeFile, ThemeError> {
    toml::from_str(text).map_err(|e| ThemeError::Invalid {
        origin: origin.to_string(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1),
        message: e.message().to_string(),
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
) -> Result<(Palette, Specs), ThemeError> {
    if depth > 4 || parent == name {
        return Err(ThemeError::InheritanceLoop {
            origin: origin.to_string(),
            parent: parent.to_string(),
        });
    }
    let Some((_, ptext)) = BUILTIN.iter().find(|(n, _)| *n == parent) else {
        return Err(ThemeError::UnknownParent {
            origin: origin.to_string(),
            parent: parent.to_string(),
        });
    };
    resolved(ptext, parent, depth + 1)
}

/// A built-in theme's palette and styles with everything it inherits.
fn resolved(text: &str, origin: &str, depth: usize) -> Result<(Palette, Specs), ThemeError> {
    let f = theme_file(text, origin)?;
    let (mut palette, mut specs) = match &f.inherits {
        Some(parent) => inherited(parent, &f.name, origin, depth)?,
        None => Default::default(),
    };
    palette.extend(f.palette);
    specs.extend(f.styles);
    Ok((palette, specs))
}
