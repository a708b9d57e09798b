//! What Prometheus's HTTP API answers, read into types (`Reply`, `Data`, `Series`, `Sample`),
//! and what a metric takes from it: the one value of an instant query, the samples of a range
//! query, or a message that says what is wrong with the answer.

use crate::real::reply::{Field, Obj, decode};
use crate::runbook::redact;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What the HTTP API answers: `{"status": "success", "data": …}`, or
/// `{"status": "error", "errorType": "bad_data", "error": "…"}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Reply {
    status: Field<String>,
    #[serde(rename = "errorType")]
    error_type: Field<String>,
    error: Field<String>,
    data: Field<Obj<Data>>,
}

/// A reply's `data`: `{"resultType": "vector", "result": …}`. What `result` holds depends on
/// `resultType` (a list of series, or one sample), so it is read once that is known.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(super) struct Data {
    #[serde(rename = "resultType")]
    result_type: Field<String>,
    result: Field<Value>,
}

/// One series of a vector (`value`) or a matrix (`values`).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Series {
    value: Field<Sample>,
    values: Field<Vec<Field<Sample>>>,
}

/// A sample, `[time, value]`: Prometheus writes the value as a string (`"0.25"`, also
/// `"NaN"`, `"+Inf"` and `"-Inf"`). What follows the value is ignored.
#[derive(Debug, Deserialize)]
#[serde(from = "Vec<Element>")]
struct Sample {
    time: Option<f64>,
    value: Option<Element>,
}

/// One element of a sample, as sent.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Element {
    Number(f64),
    Text(String),
    Other(Value),
}

impl From<Vec<Element>> for Sample {
    fn from(elements: Vec<Element>) -> Self {
        let mut elements = elements.into_iter();
        let time = match elements.next() {
            Some(Element::Number(t)) => Some(t),
            _ => None,
        };
        Sample {
            time,
            value: elements.next(),
        }
    }
}

/// The `data` of a reply with its HTTP status and body: Prometheus's own error when it
/// names one, else the HTTP status, else what is wrong with the reply.
pub(super) fn data(status: reqwest::StatusCode, body: &[u8]) -> Result<Data, String> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let reply: Option<Reply> = json.as_ref().map(decode);
    // Prometheus answers errors with a JSON body naming them; use it when there is one.
    if let Some(r) = &reply
        && r.status.get().is_some_and(|s| s == "error")
    {
        let kind = r.error_type.get().map_or("error", String::as_str);
        let msg = r.error.get().map_or("", String::as_str);
        return Err(redact(&format!("HTTP {}: {kind}: {msg}", status.as_u16())));
    }
    if !status.is_success() {
        let text: String = String::from_utf8_lossy(body)
            .trim()
            .chars()
            .take(200)
            .collect();
        return Err(redact(format!("HTTP {status} {text}").trim()));
    }
    let reply = reply.ok_or_else(|| "malformed JSON from the server".to_string())?;
    if reply.status.get().is_none_or(|s| s != "success") {
        return Err("answer without \"status\": \"success\"".into());
    }
    match reply.data {
        Field::Is(Obj(data)) => Ok(data),
        // `"data": null` or another non-object: a data without a result type.
        Field::Other(_) => Ok(Data::default()),
        Field::Absent => Err("answer without \"data\"".into()),
    }
}

impl Data {
    fn result_type(&self) -> &str {
        self.result_type.get().map_or("", String::as_str)
    }

    /// `result` read as `T`, when it is one.
    fn result<T: DeserializeOwned>(&self) -> Option<T> {
        T::deserialize(self.result.get()?).ok()
    }

    /// The value of an instant query's answer: one series or a scalar.
    pub(super) fn instant(&self) -> Result<f64, String> {
        let v = match self.result_type() {
            "vector" => {
                let series: Vec<Field<Obj<Series>>> = self
                    .result()
                    .ok_or("a vector answer without a result list")?;
                match series.as_slice() {
                    [] => return Err("no data (the query returned no series)".into()),
                    [one] => match one {
                        Field::Is(Obj(s)) if s.value.is_present() => sample_value(&s.value)?,
                        _ => return Err("a series without a value".into()),
                    },
                    more => {
                        return Err(format!(
                            "the query returned {} series; aggregate it to one (e.g. sum(…))",
                            more.len()
                        ));
                    }
                }
            }
            "scalar" if self.result.is_present() => {
                sample_value(&self.result().unwrap_or_default())?
            }
            "scalar" => return Err("a scalar answer without a result".into()),
            other => {
                return Err(format!(
                    "unexpected result type `{other}`; a metric query must return one series or a scalar"
                ));
            }
        };
        if !v.is_finite() {
            return Err(format!("the query returned {}", fmt_value(v)));
        }
        Ok(v)
    }

    /// The samples of a range query's answer: the one series of a matrix, `(unix seconds,
    /// value)`; non-finite values are `None`.
    pub(super) fn range(&self) -> Result<Vec<(f64, Option<f64>)>, String> {
        if self.result_type() != "matrix" {
            return Err("a range query must answer a matrix".into());
        }
        let series: Vec<Field<Obj<Series>>> = self
            .result()
            .ok_or("a matrix answer without a result list")?;
        let one = match series.as_slice() {
            [] => return Ok(Vec::new()),
            [one] => one,
            more => {
                return Err(format!(
                    "the query returned {} series; aggregate it to one",
                    more.len()
                ));
            }
        };
        let Some(values) = one.get().and_then(|Obj(s)| s.values.get()) else {
            return Err("a series without values".into());
        };
        values
            .iter()
            .map(|s| {
                let t = s
                    .get()
                    .and_then(|s| s.time)
                    .ok_or("a sample without a time")?;
                let v = sample_value(s)?;
                Ok((t, v.is_finite().then_some(v)))
            })
            .collect()
    }
}

/// The value of a sample; Prometheus writes values as strings, also `"NaN"`, `"+Inf"` and
/// `"-Inf"`.
fn sample_value(sample: &Field<Sample>) -> Result<f64, String> {
    let v = sample
        .get()
        .and_then(|s| s.value.as_ref())
        .ok_or("a sample without a value")?;
    match v {
        Element::Text(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "+Inf" | "Inf" => Ok(f64::INFINITY),
            "-Inf" => Ok(f64::NEG_INFINITY),
            s => s
                .parse::<f64>()
                .map_err(|_| format!("the sample value `{}` is not a number", trunc(s))),
        },
        Element::Number(n) => Ok(*n),
        Element::Other(other) => Err(format!(
            "the sample value {} is not a number",
            trunc(&other.to_string())
        )),
    }
}

fn fmt_value(v: f64) -> &'static str {
    if v.is_nan() {
        "NaN"
    } else if v > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

fn trunc(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A sample as a server sends it, read as a reply reads it.
    fn sample_value(sample: &Value) -> Result<f64, String> {
        super::sample_value(&Field::deserialize(sample).unwrap_or_default())
    }

    #[test]
    fn sample_values_are_strings() {
        assert_eq!(sample_value(&json!([1.0, "0.25"])), Ok(0.25));
        assert!(sample_value(&json!([1.0, "NaN"])).is_ok_and(|v| v.is_nan()));
        assert_eq!(sample_value(&json!([1.0, "+Inf"])), Ok(f64::INFINITY));
        assert_eq!(sample_value(&json!([1.0, "-Inf"])), Ok(f64::NEG_INFINITY));
        assert!(sample_value(&json!([1.0, "abc"])).is_err());
        assert!(sample_value(&json!([1.0])).is_err());
        assert!(sample_value(&json!([1.0, {"x": 1}])).is_err());
    }

    fn instant(status: u16, body: &str) -> Result<f64, String> {
        let status = reqwest::StatusCode::from_u16(status).map_err(|e| e.to_string())?;
        data(status, body.as_bytes())?.instant()
    }

    fn range(body: &str) -> Result<Vec<(f64, Option<f64>)>, String> {
        data(reqwest::StatusCode::OK, body.as_bytes())?.range()
    }

    #[test]
    fn bad_and_hostile_answers_say_what_is_wrong() {
        let ok = |rest: &str| format!(r#"{{"status": "success", "data": {rest}}}"#);
        let vector = |result: &str| {
            ok(&format!(
                r#"{{"resultType": "vector", "result": {result}}}"#
            ))
        };
        let scalar = |result: &str| {
            ok(&format!(
                r#"{{"resultType": "scalar", "result": {result}}}"#
            ))
        };
        let any = "; a metric query must return one series or a scalar";
        for (status, body, want) in [
            (
                400,
                r#"{"status": "error", "errorType": "bad_data", "error": "parse error"}"#
                    .to_string(),
                "HTTP 400: bad_data: parse error".to_string(),
            ),
            (
                503,
                r#"{"status": "error", "errorType": 7}"#.into(),
                "HTTP 503: error: ".into(),
            ),
            (
                503,
                "down".into(),
                "HTTP 503 Service Unavailable down".into(),
            ),
            (200, "{".into(), "malformed JSON from the server".into()),
            (
                200,
                "[]".into(),
                r#"answer without "status": "success""#.into(),
            ),
            // An array is not read as an object by position.
            (
                200,
                r#"["success", {"resultType": "scalar", "result": [1, "2"]}]"#.into(),
                r#"answer without "status": "success""#.into(),
            ),
            (
                200,
                r#"{"status": "success"}"#.into(),
                r#"answer without "data""#.into(),
            ),
            (200, ok("null"), format!("unexpected result type ``{any}")),
            (
                200,
                ok(r#"{"resultType": "matrix", "result": []}"#),
                format!("unexpected result type `matrix`{any}"),
            ),
            (
                200,
                vector("{}"),
                "a vector answer without a result list".into(),
            ),
            (
                200,
                vector("[]"),
                "no data (the query returned no series)".into(),
            ),
            (
                200,
                vector(r#"[[1, "2"]]"#),
                "a series without a value".into(),
            ),
            (
                200,
                vector(r#"[{"value": {"1": "2"}}]"#),
                "a sample without a value".into(),
            ),
            (
                200,
                vector(r#"[{"value": [1, "2"]}, {"value": [1, "3"]}]"#),
                "the query returned 2 series; aggregate it to one (e.g. sum(…))".into(),
            ),
            (
                200,
                ok(r#"{"resultType": "scalar"}"#),
                "a scalar answer without a result".into(),
            ),
            (200, scalar("null"), "a sample without a value".into()),
            (200, scalar("[1]"), "a sample without a value".into()),
            (
                200,
                scalar("[1, true]"),
                "the sample value true is not a number".into(),
            ),
            (
                200,
                scalar(r#"[1, "abc"]"#),
                "the sample value `abc` is not a number".into(),
            ),
            (
                200,
                scalar(r#"[1, "+Inf"]"#),
                "the query returned +Inf".into(),
            ),
            (
                200,
                scalar(r#"[1, "NaN"]"#),
                "the query returned NaN".into(),
            ),
        ] {
            assert_eq!(instant(status, &body), Err(want), "{body}");
        }
        assert_eq!(instant(200, &scalar(r#"[1, "2", "more"]"#)), Ok(2.0));
        assert_eq!(instant(200, &scalar("[1, 0.25]")), Ok(0.25));
        assert_eq!(
            instant(200, &vector(r#"[{"metric": {}, "value": ["x", "3"]}]"#)),
            Ok(3.0)
        );

        let matrix = |result: &str| {
            ok(&format!(
                r#"{{"resultType": "matrix", "result": {result}}}"#
            ))
        };
        assert_eq!(
            range(&vector("[]")),
            Err("a range query must answer a matrix".into())
        );
        assert_eq!(
            range(&matrix("{}")),
            Err("a matrix answer without a result list".into())
        );
        assert_eq!(range(&matrix("[]")), Ok(Vec::new()));
        assert_eq!(
            range(&matrix("[{}]")),
            Err("a series without values".into())
        );
        assert_eq!(
            range(&matrix(r#"[{"values": [["x", "1"]]}]"#)),
            Err("a sample without a time".into())
        );
        assert_eq!(
            range(&matrix(r#"[{"values": [[1]]}]"#)),
            Err("a sample without a value".into())
        );
        assert_eq!(
            range(&matrix(r#"[{"values": [[1, "NaN"], [2, "0.5"]]}]"#)),
            Ok(vec![(1.0, None), (2.0, Some(0.5))])
        );
        assert_eq!(
            range(&matrix(r#"[{"values": []}, {"values": []}]"#)),
            Err("the query returned 2 series; aggregate it to one".into())
        );
    }
}
