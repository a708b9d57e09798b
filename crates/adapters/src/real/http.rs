//! What the HTTP sources (Prometheus, flags, load balancer, health, nginx's version check)
//! share: a bounded client, checked base URLs, transport errors in a few words, and replies
//! read within a size limit; plus the one cleaner for text a server sent.

use super::fmt_secs;
use crate::runbook::redact;
use std::time::Duration;

/// Text a server sent, safe for the screen, the log and the audit log: no control, bidi or
/// zero-width character, no secret, at most `max` characters.
pub(crate) fn server_text(s: &str, max: usize) -> String {
    redact(&crate::text::clean(s.trim()))
        .chars()
        .take(max)
        .collect()
}

/// A reqwest client for one source: bounded connect and request times, no redirects to
/// elsewhere (a redirect could carry a token to another host).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {}", http_error(&e, timeout)))
}

/// A base URL, checked, without its trailing slash.
pub(crate) fn base_url(source: &str, s: &str) -> Result<String, String> {
    let trimmed = s.trim().trim_end_matches('/');
    match reqwest::Url::parse(trimmed) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(trimmed.to_string()),
        Ok(u) => Err(format!(
            "{source}: `{}` is not an http(s) URL (scheme {})",
            redact(trimmed),
            u.scheme()
        )),
        Err(e) => Err(format!("{source}: `{}` is not a URL: {e}", redact(trimmed))),
    }
}

/// A transport error in a few words, without the URL: "timed out after 2s",
/// "cannot connect: Connection refused (os error 111)".
pub(crate) fn http_error(e: &reqwest::Error, timeout: Duration) -> String {
    let root = {
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
        let mut last = None;
        while let Some(s) = src {
            last = Some(s.to_string());
            src = s.source();
        }
        last
    };
    let msg = if e.is_timeout() {
        format!("timed out after {}", fmt_secs(timeout))
    } else if e.is_connect() {
        format!(
            "cannot connect: {}",
            root.unwrap_or_else(|| "connection failed".into())
        )
    } else if e.is_decode() || e.is_body() {
        format!(
            "bad response body: {}",
            root.unwrap_or_else(|| e.to_string())
        )
    } else {
        match root {
            Some(r) => format!("{}: {r}", e.without_url_ref()),
            None => e.without_url_ref(),
        }
    };
    redact(&msg)
}

trait WithoutUrl {
    fn without_url_ref(&self) -> String;
}

impl WithoutUrl for reqwest::Error {
    fn without_url_ref(&self) -> String {
        let s = self.to_string();
        // "error sending request for url (http://…)": drop the URL part.
        match s.find(" for url (") {
            Some(i) => s[..i].to_string(),
            None => s,
        }
    }
}

/// GET a URL and parse its JSON body; errors name the status or what is wrong with the body.
pub(crate) async fn get_json(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let resp = client
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| http_error(&e, timeout))?;
    json_body(resp, timeout).await
}

/// The most any HTTP source may answer. Replies are read up to this and no further: a server
/// that answers more is an error, not a reason to fill memory (or the audit log).
pub const MAX_REPLY: usize = 1 << 20;

/// The error for a reply over [`MAX_REPLY`].
pub const TOO_LARGE: &str = "reply larger than 1 MiB";

/// The body of a response, at most [`MAX_REPLY`] bytes.
pub(crate) async fn body_capped(
    mut resp: reqwest::Response,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    if resp.content_length().is_some_and(|n| n > MAX_REPLY as u64) {
        return Err(TOO_LARGE.into());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| http_error(&e, timeout))? {
        if body.len() + chunk.len() > MAX_REPLY {
            return Err(TOO_LARGE.into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of an error reply's body, for a message (the caller redacts it).
pub(crate) async fn reply_text(resp: reqwest::Response, timeout: Duration) -> String {
    match body_capped(resp, timeout).await {
        Ok(body) => String::from_utf8_lossy(&body)
            .trim()
            .chars()
            .take(200)
            .collect(),
        Err(e) => format!("({e})"),
    }
}

/// The JSON body of a response, or an error naming the HTTP status.
pub(crate) async fn json_body(
    resp: reqwest::Response,
    timeout: Duration,
) -> Result<serde_json::Value, String> {
    let status = resp.status();
    if !status.is_success() {
        let text = reply_text(resp, timeout).await;
        return Err(redact(&if text.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {text}")
        }));
    }
    let body = body_capped(resp, timeout).await?;
    serde_json::from_slice(&body).map_err(|e| format!("malformed JSON from the server: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_rejects_non_http() {
        assert!(base_url("flags", "ftp://x").is_err());
        assert!(base_url("flags", "not a url").is_err());
        assert_eq!(
            base_url("flags", "http://127.0.0.1:8080/").as_deref(),
            Ok("http://127.0.0.1:8080")
        );
        let e = base_url("db", "nope://u:secret@h").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
    }
}
