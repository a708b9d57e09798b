//! The included file warroom owns: written for a share (`render`), read back (`parse`), and
//! compared for a dry run (`diff`).

/// The header the included file adds to every response: the file's version.
pub const VERSION_HEADER: &str = "X-Config-Version";

/// The header the included file adds to every response: green's share in percent, as the
/// configuration answering it splits. Read over HTTP, it is the split nginx serves, not the
/// one on disk.
pub const SHARE_HEADER: &str = "X-Green-Share";

/// What the included file says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Split {
    pub green: u32,
    pub version: u64,
}

/// The included file for green at `green` percent, version `version`.
pub fn render(green: u32, version: u64) -> String {
    let green = green.min(100);
    let split = match green {
        0 => "    * backend_blue;\n".to_string(),
        100 => "    * backend_green;\n".to_string(),
        g => format!("    {g}% backend_green;\n    * backend_blue;\n"),
    };
    format!(
        "# Written by warroom: it rewrites this file on every change of the split.\n\
         # warroom-version {version}\n\
         split_clients \"${{request_id}}\" $warroom_split {{\n{split}}}\n\
         map $cookie_canary $backend_pool {{\n    \
             green backend_green;\n    \
             blue backend_blue;\n    \
             default $warroom_split;\n\
         }}\n\
         add_header {VERSION_HEADER} {version} always;\n\
         add_header {SHARE_HEADER} {green} always;\n"
    )
}

/// Read the split back from the included file's directives.
pub fn parse(text: &str) -> Result<Split, String> {
    let mut version = None;
    let mut green = None;
    let mut in_split = false;
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with("split_clients") {
            in_split = true;
            continue;
        }
        if in_split {
            if l.starts_with('}') {
                in_split = false;
                continue;
            }
            let l = l.trim_end_matches(';');
            match l.split_whitespace().collect::<Vec<_>>().as_slice() {
                ["*", "backend_green"] if green.is_none() => green = Some(100),
                ["*", "backend_blue"] if green.is_none() => green = Some(0),
                [p, "backend_green"] => {
                    green = p
                        .strip_suffix('%')
                        .and_then(|p| p.parse::<f64>().ok())
                        .map(|p| p.round().clamp(0.0, 100.0) as u32);
                }
                _ => {}
            }
        } else if let Some(rest) = l.strip_prefix("add_header") {
            let mut w = rest.split_whitespace();
            if w.next()
                .is_some_and(|h| h.eq_ignore_ascii_case(VERSION_HEADER))
            {
                version = w.next().and_then(|v| v.trim_end_matches(';').parse().ok());
            }
        }
    }
    match (green, version) {
        (Some(green), Some(version)) => Ok(Split { green, version }),
        (None, _) => Err("no split_clients share for backend_green in the included file".into()),
        (_, None) => Err(format!("no {VERSION_HEADER} header in the included file")),
    }
}

/// Lines removed and added, for the dry run.
pub fn diff(old: &str, new: &str) -> String {
    let (o, n): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut out = Vec::new();
    for l in &o {
        if !n.contains(l) {
            out.push(format!("-{l}"));
        }
    }
    for l in &n {
        if !o.contains(l) {
            out.push(format!("+{l}"));
        }
    }
    if out.is_empty() {
        "no change".into()
    } else {
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_reads_back_what_was_rendered() {
        for g in [0, 10, 25, 100] {
            assert_eq!(
                parse(&render(g, 7)),
                Ok(Split {
                    green: g,
                    version: 7
                })
            );
        }
        assert!(parse("split_clients x $y {\n}\n").is_err());
        // What nginx answers says the split it serves.
        assert!(render(25, 3).contains("add_header X-Green-Share 25 always;"));
        let d = diff(&render(10, 1), &render(25, 2));
        assert!(d.contains("-    10% backend_green;"), "{d}");
        assert!(d.contains("+    25% backend_green;"), "{d}");
    }
}
