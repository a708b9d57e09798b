//! `${VAR}` and `${VAR:-default}` in target fields, and redaction of secrets in URLs.

/// The result of expanding one string.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    pub value: String,
    /// Variables that were unset and had no default.
    pub unset: Vec<String>,
}

/// Expand `${VAR}` and `${VAR:-default}`; `$$` is a literal `$`. An unset variable without a
/// default expands to the empty string and is named in `unset`. A malformed reference is an
/// error.
pub fn expand(s: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Expanded, String> {
    let mut out = String::with_capacity(s.len());
    let mut unset = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let Some(body_and_tail) = after.strip_prefix('{') else {
            out.push('$');
            rest = after;
            continue;
        };
        let Some(end) = body_and_tail.find('}') else {
            return Err(format!("`${{` without a closing `}}` in `{s}`"));
        };
        let body = &body_and_tail[..end];
        let (name, default) = match body.find(":-") {
            Some(j) => (&body[..j], Some(&body[j + 2..])),
            None => (body, None),
        };
        if name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || name.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(format!(
                "`${{{body}}}` is not a variable reference; write ${{NAME}} or ${{NAME:-default}}"
            ));
        }
        match (lookup(name).filter(|v| !v.is_empty()), default) {
            (Some(v), _) => out.push_str(&v),
            (None, Some(d)) => out.push_str(d),
            (None, None) => unset.push(name.to_string()),
        }
        rest = &body_and_tail[end + 1..];
    }
    out.push_str(rest);
    Ok(Expanded { value: out, unset })
}

/// Hide the password of a URL (`postgres://user:secret@host/db` → `postgres://user:***@host/db`)
/// and the values of query parameters that look like secrets. Everything that is shown or
/// recorded goes through this.
pub fn redact(s: &str) -> String {
    let mut out = s.to_string();
    if let Some(scheme_end) = out.find("://") {
        let auth_start = scheme_end + 3;
        let rest = &out[auth_start..];
        let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        if let Some(at) = rest[..host_end].rfind('@') {
            let userinfo = &rest[..at];
            let redacted = match userinfo.find(':') {
                Some(c) => format!("{}:***", &userinfo[..c]),
                None => "***".to_string(),
            };
            out = format!("{}{}{}", &out[..auth_start], redacted, &rest[at..]);
        }
    }
    for key in [
        "password=",
        "token=",
        "access_token=",
        "apikey=",
        "api_key=",
        "secret=",
    ] {
        let mut from = 0;
        while let Some(i) = out[from..].to_ascii_lowercase().find(key) {
            let start = from + i + key.len();
            let end = out[start..]
                .find(['&', ' ', '#'])
                .map(|e| start + e)
                .unwrap_or(out.len());
            out.replace_range(start..end, "***");
            from = start + 3;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "HOST" => Some("db.local".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_set_default_and_unset() {
        let e = expand("pg://${HOST}:${PORT:-5432}/${DB}", &env).unwrap();
        assert_eq!(e.value, "pg://db.local:5432/");
        assert_eq!(e.unset, vec!["DB".to_string()]);
        // An empty variable takes the default, as in the shell's `:-`.
        assert_eq!(expand("${EMPTY:-x}", &env).unwrap().value, "x");
        assert_eq!(expand("cost $$5 $x", &env).unwrap().value, "cost $5 $x");
    }

    #[test]
    fn malformed_reference_is_an_error() {
        assert!(expand("${HOST", &env).unwrap_err().contains("closing"));
        assert!(expand("${1X}", &env).is_err());
        assert!(expand("${}", &env).is_err());
    }

    #[test]
    fn redacts_passwords_and_tokens() {
        assert_eq!(
            redact("postgres://app:s3cret@127.0.0.1:5432/db?sslmode=disable"),
            "postgres://app:***@127.0.0.1:5432/db?sslmode=disable"
        );
        assert_eq!(redact("http://tok@h/x"), "http://***@h/x");
        assert_eq!(
            redact("http://h/x?token=abc&y=1"),
            "http://h/x?token=***&y=1"
        );
        assert_eq!(redact("http://h:9090/api"), "http://h:9090/api");
    }
}
