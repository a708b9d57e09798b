//! Loading a runbook: read the file (refusing what cannot be a runbook), parse its YAML into
//! the schema, run the checks; and the plan built into the binary.

use super::validate;
use super::{Diag, Runbook, Severity};
use std::path::{Path, PathBuf};

/// The largest runbook we read. A real plan is a few tens of KiB.
pub const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// Why a runbook could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file cannot be read as a text runbook at all.
    #[error("{}: error: {problem}", .path.display())]
    File { path: PathBuf, problem: FileProblem },
    /// The text is not a runbook: YAML that does not parse, or a key or value the schema does
    /// not take (unknown, missing, of the wrong type).
    #[error("{}", report(.path, std::slice::from_ref(.diag)))]
    Yaml { path: PathBuf, diag: Diag },
    /// The runbook parsed but fails its checks: its errors, and the warnings found with them.
    #[error("{}", report(.path, .diags))]
    Invalid { path: PathBuf, diags: Vec<Diag> },
}

/// Why a file cannot be read as a text runbook.
#[derive(Debug, thiserror::Error)]
pub enum FileProblem {
    #[error("no such file; give the path of a runbook such as runbooks/unified-attributes.yaml")]
    NotFound,
    #[error(
        "is a directory; give a runbook file inside it (e.g. runbooks/unified-attributes.yaml)"
    )]
    Directory,
    #[error(
        "is {len} bytes, larger than the {MAX_BYTES}-byte limit for a runbook; is this the right file?"
    )]
    TooLarge { len: u64 },
    /// Reading it failed (the message includes the system's).
    #[error("cannot read: {0}")]
    Unreadable(std::io::Error),
    #[error(
        "is empty; a runbook needs at least name, pools, flags, rollout, phases and metrics (see runbooks/README.md)"
    )]
    Empty,
    #[error("looks binary (it contains NUL bytes); a runbook is a YAML text file")]
    Binary,
    #[error("is not UTF-8 (invalid byte at offset {offset}); save it as UTF-8")]
    NotUtf8 { offset: usize },
}

/// Each finding as `FILE:LINE:COL: …`, then how many errors.
fn report(path: &Path, diags: &[Diag]) -> String {
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let mut out = String::new();
    for d in diags {
        out.push_str(&d.render(path));
        out.push('\n');
    }
    out.push_str(&format!(
        "{}: {errors} error{} found",
        path.display(),
        if errors == 1 { "" } else { "s" }
    ));
    out
}

/// A runbook that passed every check, with the warnings found on the way.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub runbook: Runbook,
    pub warnings: Vec<Diag>,
    /// SHA-256 of the file's bytes, recorded in the audit log's session record.
    pub sha256: String,
}

/// The plan warroom ships with, built into the binary so that `warroom demo` works from any
/// directory: used when its path (relative, as the demo's default names it) is not there.
pub const BUILTIN_PATH: &str = "runbooks/unified-attributes.yaml";
const BUILTIN: &str = include_str!("../../../../runbooks/unified-attributes.yaml");

/// The commented starter runbook `warroom init` writes.
pub const STARTER: &str = include_str!("../../../../runbooks/starter.yaml");

/// The file at `path`; the built-in plan when `path` is the built-in's own relative path and
/// no such file is here.
pub fn load_or_builtin(path: &Path) -> Result<Loaded, LoadError> {
    if path == Path::new(BUILTIN_PATH) && !path.exists() {
        return parse(path, BUILTIN.as_bytes());
    }
    load(path)
}

/// Read, parse and check a runbook file.
pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let file_err = |problem: FileProblem| LoadError::File {
        path: path.to_path_buf(),
        problem,
    };
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => file_err(FileProblem::NotFound),
        _ => file_err(FileProblem::Unreadable(e)),
    })?;
    if meta.is_dir() {
        return Err(file_err(FileProblem::Directory));
    }
    if meta.len() > MAX_BYTES {
        return Err(file_err(FileProblem::TooLarge { len: meta.len() }));
    }
    let bytes = std::fs::read(path).map_err(|e| file_err(FileProblem::Unreadable(e)))?;
    parse(path, &bytes)
}

/// Parse and check runbook bytes (the file at `path` already read).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Loaded, LoadError> {
    let file_err = |problem: FileProblem| LoadError::File {
        path: path.to_path_buf(),
        problem,
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(file_err(FileProblem::Empty));
    }
    if bytes.contains(&0) {
        return Err(file_err(FileProblem::Binary));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        file_err(FileProblem::NotUtf8 {
            offset: e.valid_up_to(),
        })
    })?;
    let runbook: Runbook = match serde_saphyr::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return Err(LoadError::Yaml {
                path: path.to_path_buf(),
                diag: yaml_diag(&e, text),
            });
        }
    };
    let diags = validate::validate(&runbook, &|k| std::env::var(k).ok());
    if diags.iter().any(|d| d.severity == Severity::Error) {
        return Err(LoadError::Invalid {
            path: path.to_path_buf(),
            diags,
        });
    }
    use sha2::Digest;
    Ok(Loaded {
        path: path.to_path_buf(),
        runbook,
        warnings: diags,
        sha256: hex::encode(sha2::Sha256::digest(bytes)),
    })
}

fn yaml_diag(e: &serde_saphyr::Error, text: &str) -> Diag {
    let (line, col) = e
        .location()
        .map(|l| (l.line(), l.column()))
        .unwrap_or((1, 1));
    let opts = serde_saphyr::render_options! { snippets: serde_saphyr::SnippetMode::Off };
    let mut msg = e.render_with_options(opts);
    // The plain rendering ends with "at line X, column Y"; we print the place up front.
    for marker in [" at line ", " (used at line ", " (defined at line "] {
        if let Some(i) = msg.find(marker) {
            msg.truncate(i);
        }
    }
    let msg = msg.trim().to_string();
    let kind = yaml_kind(e);
    // A missing key is reported at a place inside the mapping that lacks it (its last key):
    // name that item and point at its first line.
    if let Some(field) = missing_key(e)
        && let Some(item) = super::item::around(text, (line, col))
    {
        return Diag::error(item.at, format!("{} is missing `{field}`", item.label))
            .hint("add the key; runbooks/README.md lists the required ones");
    }
    // An alias inside the anchor it names would repeat forever: say so in words.
    if matches!(
        inner(e),
        serde_saphyr::Error::RecursiveReferencesRequireWeakTypes { .. }
    ) {
        let what = match alias_at(text, (line, col)) {
            Some(n) => format!("the alias `*{n}` refers to itself: it is inside the value anchored as `&{n}`, which would contain itself forever"),
            None => "this alias refers to itself: it is inside the value its anchor names, which would contain itself forever".to_string(),
        };
        return Diag::error((line, col), what).hint(
            "write the value out here, or anchor a smaller part that does not contain the alias",
        );
    }
    // An empty value where text belongs: the library's words name a Rust type.
    if matches!(
        inner(e),
        serde_saphyr::Error::NullIntoString { .. } | serde_saphyr::Error::InvalidCharNull { .. }
    ) {
        let what = match key_at(text, line) {
            Some(k) => format!("`{k}` is empty (null): it needs text"),
            None => "this value is empty (null): text is needed here".to_string(),
        };
        return Diag::error((line, col), what)
            .hint("write the text; put it in quotes if it is the word `null` or `~`");
    }
    // A key missing from the top-level mapping is reported at that mapping's end, which reads
    // as if the last section lacked it: point at the document instead.
    let (line, col) = if kind == YamlKind::MissingKey && col == 1 {
        (1, 1)
    } else {
        (line, col)
    };
    let hint = match kind {
        YamlKind::UnknownKey => {
            Some("remove the key or fix its spelling; runbooks/README.md lists every key")
        }
        YamlKind::MissingKey => Some("add the key; runbooks/README.md lists the required ones"),
        YamlKind::TooDeep => {
            Some("the file is too deeply nested or expands too many aliases to be a runbook")
        }
        YamlKind::WrongType => Some(
            "check the value's type against runbooks/README.md (e.g. a number where a number is expected, quotes around text)",
        ),
        YamlKind::Other => None,
    };
    // A misspelt key: name the key it is closest to, instead of every key there is.
    if let Some((field, near)) = unknown_key_near(e) {
        return Diag::error((line, col), format!("unknown field `{field}`"))
            .hint(format!("fix its spelling: did you mean `{near}`?"));
    }
    // Inside `{ … }` a comma ends a value: the words after it read as a key of their own.
    if let serde_saphyr::Error::SerdeUnknownField { field, .. } = inner(e)
        && let Some(item) = super::item::around(text, (line, col))
        && item.flow
    {
        let field = crate::text::clean(field);
        let example = match &item.before {
            Some((k, v)) => format!(", e.g. {k}: \"{v}, {field}\""),
            None => String::new(),
        };
        return Diag::error((line, col), msg).hint(format!(
            "inside `{{ … }}` a comma ends a value: if `{field}` belongs to the text before it, put that text in quotes{example}"
        ));
    }
    let d = Diag::error((line, col), msg);
    match hint {
        Some(h) => d.hint(h),
        None => d,
    }
}

/// For an unknown key, the known key it is a likely misspelling of (a small edit distance
/// for its length), if there is one.
fn unknown_key_near(e: &serde_saphyr::Error) -> Option<(String, &'static str)> {
    let serde_saphyr::Error::SerdeUnknownField {
        field, expected, ..
    } = inner(e)
    else {
        return None;
    };
    let limit = (field.chars().count() / 3).max(1);
    expected
        .iter()
        .map(|k| (strsim::damerau_levenshtein(field, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, k)| (crate::text::clean(field).into_owned(), k))
}

/// The error itself, inside the wrappers that add a snippet or an alias's places.
fn inner(e: &serde_saphyr::Error) -> &serde_saphyr::Error {
    use serde_saphyr::Error as E;
    let mut e = e;
    while let E::WithSnippet { error, .. } | E::AliasError { error, .. } = e {
        e = error;
    }
    e
}

/// The key a mapping lacks, for a missing-key error.
fn missing_key(e: &serde_saphyr::Error) -> Option<&'static str> {
    match inner(e) {
        serde_saphyr::Error::SerdeMissingField { field, .. } => Some(field),
        _ => None,
    }
}

/// The key written on a line (`  - name: …` gives `name`), read from the text.
fn key_at(text: &str, line: u64) -> Option<String> {
    let l = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let key = l
        .trim_start()
        .trim_start_matches("- ")
        .split(':')
        .next()?
        .trim();
    (!key.is_empty() && !key.contains(' ')).then(|| crate::text::clean(key).into_owned())
}

/// The alias written at a place (`*name`), read from the text.
fn alias_at(text: &str, (line, col): (u64, u64)) -> Option<String> {
    let l = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let rest: String = l
        .chars()
        .skip(usize::try_from(col).ok()?.saturating_sub(1))
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}'))
        .collect();
    rest.strip_prefix('*')
        .filter(|n| !n.is_empty())
        .map(|n| crate::text::clean(n).into_owned())
}

/// What a YAML error is about, for its hint: told by the error's case, never by its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum YamlKind {
    UnknownKey,
    MissingKey,
    /// Nesting, aliases or the parser's budget beyond what a runbook needs.
    TooDeep,
    /// A value (or, for some syntax errors, the text) not of the shape expected there.
    WrongType,
    Other,
}

fn yaml_kind(e: &serde_saphyr::Error) -> YamlKind {
    use serde_saphyr::Error as E;
    use serde_saphyr::granit_parser::ErrorKind as Scan;
    match inner(e) {
        E::SerdeUnknownField { .. } => YamlKind::UnknownKey,
        E::SerdeMissingField { .. } => YamlKind::MissingKey,
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::UnknownAnchor { .. }
        | E::InternalDepthUnderflow { .. }
        | E::InternalRecursionStackEmpty { .. }
        | E::RecursiveReferencesRequireWeakTypes { .. } => YamlKind::TooDeep,
        E::SerdeInvalidType { .. }
        | E::SerdeInvalidValue { .. }
        | E::SerdeInvalidLength { .. }
        | E::InvalidScalar { .. }
        | E::InvalidBooleanStrict { .. }
        | E::InvalidCharNull { .. }
        | E::InvalidCharNotSingleScalar { .. }
        | E::InvalidBinaryBase64 { .. }
        | E::Unexpected { .. }
        | E::ExpectedEmptyMappingForUnitStruct { .. }
        | E::ExpectedStringKeyForExternallyTaggedEnum { .. }
        | E::ExpectedMappingEndAfterEnumVariantValue { .. } => YamlKind::WrongType,
        E::ExternalMessage { source, .. } => match source.as_ref() {
            serde_saphyr::ExternalMessageSource::Parser(scan) => match scan.kind() {
                Scan::RecursionLimitExceeded | Scan::MissingAnchorOrAliasName => YamlKind::TooDeep,
                // The syntax errors that have always had the type hint.
                Scan::InvalidIndentation
                | Scan::InvalidFlowScalarIndent
                | Scan::InvalidQuotedScalarIndent
                | Scan::InvalidTrailingSingleQuotedScalar
                | Scan::InvalidTrailingDoubleQuotedScalar
                | Scan::InvalidGlobalTagCharacter
                | Scan::InvalidDocumentEnd
                | Scan::ExpectedWhitespace => YamlKind::WrongType,
                _ => YamlKind::Other,
            },
            _ => YamlKind::Other,
        },
        _ => YamlKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Loaded, LoadError> {
        parse(Path::new("plan.yaml"), text.as_bytes())
    }

    #[test]
    fn an_empty_value_where_text_belongs_is_named_in_words() {
        let text = BUILTIN.replacen("\nname:", "\nname: null\nold_name:", 1);
        let Err(LoadError::Yaml { diag, .. }) = parsed(&text) else {
            panic!("null where a name belongs must fail");
        };
        assert!(
            diag.message.contains("`name` is empty (null)"),
            "{}",
            diag.message
        );
        assert!(!diag.message.contains("Option"), "{}", diag.message);
    }

    #[test]
    fn each_way_of_failing_is_its_own_case_with_its_message() {
        match parsed(" \n") {
            Err(
                e @ LoadError::File {
                    problem: FileProblem::Empty,
                    ..
                },
            ) => assert!(
                e.to_string()
                    .starts_with("plan.yaml: error: is empty; a runbook needs"),
                "{e}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parsed("a\0b"),
            Err(LoadError::File {
                problem: FileProblem::Binary,
                ..
            })
        ));
        match parse(Path::new("plan.yaml"), b"name: \xff\n") {
            Err(
                e @ LoadError::File {
                    problem: FileProblem::NotUtf8 { offset: 6 },
                    ..
                },
            ) => assert_eq!(
                e.to_string(),
                "plan.yaml: error: is not UTF-8 (invalid byte at offset 6); save it as UTF-8"
            ),
            other => panic!("{other:?}"),
        }
        match parsed("name: [x\n") {
            Err(e @ LoadError::Yaml { .. }) => {
                assert!(e.to_string().ends_with("plan.yaml: 1 error found"), "{e}")
            }
            other => panic!("{other:?}"),
        }
        match load(Path::new("no/such/plan.yaml")) {
            Err(LoadError::File {
                problem: FileProblem::NotFound,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_runbook_that_fails_its_checks_is_invalid() {
        let text = BUILTIN.replace("no_override:\n", "no_override:\n  - { check: nope }\n");
        match parsed(&text) {
            Err(e @ LoadError::Invalid { .. }) => {
                let s = e.to_string();
                assert!(s.contains("no_override names unknown check `nope`"), "{s}");
                assert!(s.ends_with("plan.yaml: 1 error found"), "{s}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_hint_follows_the_kind_of_error_not_the_words_in_it() {
        let hint = |text: &str| match parsed(text) {
            Err(LoadError::Yaml { diag, .. }) => diag.hint,
            other => panic!("{other:?}"),
        };
        // A value that happens to say `depth` is a wrong value, not a nesting problem.
        assert_eq!(
            hint(&BUILTIN.replacen("kind: percent", "kind: depth", 1)),
            None
        );
        assert!(
            hint(&format!("{}\n", "[".repeat(10_000)))
                .is_some_and(|h| h.starts_with("the file is too deeply nested"))
        );
        assert!(
            hint(&BUILTIN.replacen("kind: percent", "kind: percent\n    colour: red", 1))
                .is_some_and(|h| h.starts_with("remove the key"))
        );
    }
}
