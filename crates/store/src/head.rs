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

/// Write the head file in place: one fixed-width line (the sequence number padded), so that
/// every write covers the whole file and never changes its size. With `sync` it is then
/// flushed to disk with `fdatasync`, so the head never points past what a synced commit made
/// durable — and, the size being unchanged, without the journal commit that a rename or a
/// new file would cost (a few milliseconds on a busy disk, on every action).
pub(crate) fn write_head(audit: &Path, seq: i64, hash: &str, sync: bool) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    let line = format!("{seq:>20} {hash}\n");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(head_path(audit))?;
    // A head file written by an older version is shorter or longer: made the fixed width once.
    if f.metadata()?.len() != line.len() as u64 {
        f.set_len(line.len() as u64)?;
    }
    f.seek(SeekFrom::Start(0))?;
    f.write_all(line.as_bytes())?;
    if sync {
        f.sync_data()?;
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
