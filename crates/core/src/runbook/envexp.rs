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

/// The part of a URL after `scheme://` with the credentials masked. A password may hold
/// characters that end the authority for a URL parser (`/`, `?`, `#`, `@`, `%`, `:`): when
/// the URL has an `@` and its authority an `@` or a `:`, all up to the last `@` is taken for
/// the user and password (erring on the side of hiding too much).
fn mask_userinfo(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(at) = url.rfind('@') else {
        return url.into();
    };
    let authority = &url[..url.find(['/', '?', '#']).unwrap_or(url.len())];
    // `host:port/…?q=a@b` is masked too: a password may start with digits.
    if !authority.contains(['@', ':']) {
        return url.into();
    }
    let userinfo = &url[..at];
    let masked = match userinfo.find(':') {
        Some(c) => format!("{}:***", &userinfo[..c]),
        None => "***".to_string(),
    };
    format!("{masked}{}", &url[at..]).into()
}

/// Hide the password of a URL (`postgres://user:secret@host/db` → `postgres://user:***@host/db`)
/// and the values of query parameters that look like secrets. Everything that is shown or
/// recorded goes through this.
pub fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // Every URL in the text, each up to the next space or quote.
    while let Some(i) = rest.find("://") {
        let auth_start = i + 3;
        out.push_str(&rest[..auth_start]);
        rest = &rest[auth_start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .unwrap_or(rest.len());
        let (url, tail) = rest.split_at(end);
        out.push_str(&mask_userinfo(url));
        rest = tail;
    }
    out.push_str(rest);
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

/// A pool's `servers` entries as addresses: each `${VAR}` expanded, then split on commas (a
/// variable may list several). The `run` adapters and the simulator read pools alike.
pub fn server_list(
    entries: &[String],
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for s in entries {
        let e = expand(s, lookup)?;
        out.extend(
            e.value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
        );
    }
    Ok(out)
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
        assert_eq!(
            expand("${HOST", &env),
            Err("`${` without a closing `}` in `${HOST`".to_string())
        );
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

    #[test]
    fn redacts_passwords_that_url_parsers_split() {
        for (url, user) in [
            ("postgres://u:p@ss/w#rd?x@host/db", "u"),
            ("postgres://u:p/ss@host:5432/db", "u"),
            ("postgres://u:p#ss@host/db", "u"),
            ("postgres://u:p?ss@host/db?sslmode=disable", "u"),
            ("postgres://u:p%40ss@host/db", "u"),
            ("postgres://u:p:ss@host/db", "u"),
            ("postgres://u:12#34@host/db", "u"),
            ("postgres://u:/@#?%:@host/db", "u"),
            ("https://tok@en/#?@host/x", ""),
        ] {
            let r = redact(&format!("cannot connect to {url}: refused"));
            let masked = if user.is_empty() {
                "***".to_string()
            } else {
                format!("{user}:***")
            };
            assert!(r.contains(&format!("://{masked}@host")), "{url} gave {r}");
            assert!(r.ends_with(": refused"), "{url} gave {r}");
            for secret in [
                "p@ss", "ss/w", "w#rd", "p/ss", "p#ss", "p?ss", "p%40", "p:ss", "12#34", "tok",
                "en/#",
            ] {
                if url.contains(secret) {
                    assert!(!r.contains(secret), "{secret} leaked from {url}: {r}");
                }
            }
        }
        // Two URLs in one message: both masked. An address with a port and no credentials
        // stays as it is.
        assert_eq!(
            redact("a postgres://u:x/y@h1/db b https://v:z#w@h2/"),
            "a postgres://u:***@h1/db b https://v:***@h2/"
        );
        assert_eq!(
            redact("http://127.0.0.1:9090/api/v1/query"),
            "http://127.0.0.1:9090/api/v1/query"
        );
    }
}
