//! The head kept outside the database (`AUDIT.head`), and a head given on the command line.

use std::path::{Path, PathBuf};
/// The sidecar that keeps the head (`seq hash`) outside the database: `AUDIT.head`.
pub fn head_path(audit: &Path) -> PathBuf {
    let mut s = audit.as_os_str().to_owned();
    s.push(".head");
    PathBuf::from(s)
}

pub fn read_head(audit: &Path) -> Option<(i64, String)> {
    let text = std::fs::read_to_string(head_path(audit)).ok()?;
    let mut it = text.split_whitespace();
    let seq = it.next()?.parse().ok()?;
    let hash = it.next()?.to_string();
    Some((seq, hash))
}

/// Replace the head file: written to a temporary file, renamed over the old one. With `sync`,
/// the file and its directory are synced to disk first, so the head never points past what a
/// synced commit made durable.
pub(crate) fn write_head(audit: &Path, seq: i64, hash: &str, sync: bool) -> std::io::Result<()> {
    use std::io::Write;
    let p = head_path(audit);
    let tmp = {
        let mut s = p.as_os_str().to_owned();
        s.push(".tmp");
        PathBuf::from(s)
    };
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(format!("{seq} {hash}\n").as_bytes())?;
    if sync {
        f.sync_all()?;
    }
    drop(f);
    std::fs::rename(&tmp, &p)?;
    if sync && let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// `--expect-head` as given: a hash (or its first 8+ hex digits), or the head file's own
/// `SEQ HASH`. Returns the hash, lowercase.
pub fn parse_expected_head(given: &str) -> Result<String, String> {
    let words: Vec<&str> = given.split_whitespace().collect();
    let hash = match words.as_slice() {
        [h] => Some(*h),
        [seq, h] if seq.parse::<u64>().is_ok() => Some(*h),
        _ => None,
    };
    match hash {
        Some(h) if (8..=64).contains(&h.len()) && h.chars().all(|c| c.is_ascii_hexdigit()) => {
            Ok(h.to_ascii_lowercase())
        }
        _ => Err(format!(
            "--expect-head `{}` is not a head: give its hash (at least 8 hex digits) or the head file's `SEQ HASH`",
            crate::text::clean(given)
        )),
    }
}
