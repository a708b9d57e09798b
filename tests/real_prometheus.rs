//! The Prometheus adapter: against a real Prometheus (Debian's `prometheus` package) that
//! scrapes an exporter served by the test, when `/usr/bin/prometheus` exists; and always
//! against a loopback server that fails in every way a source can (down, slow, 500, malformed
//! JSON, lying answers).

mod support;

use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;
use warroom::real::Source;
use warroom::real::prometheus::{MetricQuery, Prometheus};

const T: Duration = Duration::from_millis(800);

fn q(id: &str, query: &str, scale: f64) -> MetricQuery {
    MetricQuery {
        id: id.into(),
        query: query.into(),
        scale,
    }
}

/// A Prometheus process on a free loopback port with a temp config and storage; killed and
/// removed when dropped.
struct PromProcess {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for PromProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_prometheus(bin: &std::path::Path, target: &str) -> PromProcess {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .expect("write config");
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log file");
    let child = std::process::Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start prometheus");
    let p = PromProcess {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let client = reqwest::Client::new();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{}/-/ready", p.url)).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < until, "prometheus did not become ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_prometheus_scrapes_the_test_exporter() {
    let Some(bin) = require(
        "prometheus (apt-get install prometheus)",
        find_binary(&["/usr/bin/prometheus", "/usr/local/bin/prometheus"]),
    ) else {
        return;
    };
    // The exporter: every scrape adds 99 good and 1 failed request on green, 100 good on blue,
    // so the green error ratio is 1 %.
    let scrapes = Arc::new(AtomicU64::new(0));
    let s2 = scrapes.clone();
    let exporter = Server::start(move |r| {
        if r.path != "/metrics" {
            return Resp::text(404, "no");
        }
        let n = s2.fetch_add(1, Ordering::SeqCst) + 1;
        Resp::text(
            200,
            &format!(
                "# TYPE http_requests_total counter\n\
                 http_requests_total{{pool=\"blue\",code=\"200\"}} {}\n\
                 http_requests_total{{pool=\"green\",code=\"200\"}} {}\n\
                 http_requests_total{{pool=\"green\",code=\"500\"}} {}\n\
                 # TYPE cache_hits_total counter\ncache_hits_total {}\n\
                 # TYPE cache_requests_total counter\ncache_requests_total {}\n\
                 # TYPE warroom_test_gauge gauge\nwarroom_test_gauge 0.042\n",
                n * 100,
                n * 99,
                n,
                n * 78,
                n * 100
            ),
        )
    })
    .await;
    let prom = start_prometheus(&bin, &exporter.host_port()).await;
    let p = Prometheus::new(
        &prom.url,
        Duration::from_secs(3),
        vec![
            q("gauge_ms", "max(warroom_test_gauge)", 1000.0),
            q(
                "green_error_rate",
                r#"sum(rate(http_requests_total{pool="green",code=~"5.."}[1m])) / sum(rate(http_requests_total{pool="green"}[1m]))"#,
                100.0,
            ),
            q(
                "cache_hit_rate",
                "sum(rate(cache_hits_total[1m])) / sum(rate(cache_requests_total[1m]))",
                100.0,
            ),
        ],
    )
    .expect("client");

    // Wait until two scrapes make the rates defined.
    let until = Instant::now() + Duration::from_secs(40);
    let o = loop {
        let o = Source::read(&p).await;
        if o.metrics.values().all(|v| v.is_some()) {
            break o;
        }
        assert!(
            Instant::now() < until,
            "no values from prometheus: {:?} (scrapes: {})",
            o,
            scrapes.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(o.errors.is_empty(), "{:?}", o.errors);
    let v = |id: &str| o.metrics.get(id).copied().flatten().unwrap_or(f64::NAN);
    assert!(
        (v("gauge_ms") - 42.0).abs() < 1e-9,
        "scaled gauge {}",
        v("gauge_ms")
    );
    assert!(
        (v("green_error_rate") - 1.0).abs() < 0.01,
        "error rate {}",
        v("green_error_rate")
    );
    assert!(
        (v("cache_hit_rate") - 78.0).abs() < 0.1,
        "hit rate {}",
        v("cache_hit_rate")
    );

    // Real error answers from the real server.
    let e = p.instant("sum(rate(").await.expect_err("bad PromQL");
    assert!(e.contains("400") && e.contains("bad_data"), "{e}");
    let e = p
        .instant("http_requests_total")
        .await
        .expect_err("three series");
    assert!(e.contains("3 series"), "{e}");
    let e = p
        .instant("nonexistent_metric_xyz")
        .await
        .expect_err("no data");
    assert!(e.contains("no data"), "{e}");
    let e = p.instant("vector(0) / 0").await.expect_err("NaN");
    assert!(e.contains("NaN"), "{e}");

    // The range query looks back over what was scraped.
    let now = chrono::Utc::now();
    let samples = p
        .range(
            "max(warroom_test_gauge)",
            now - chrono::Duration::seconds(10),
            now,
            Duration::from_secs(1),
        )
        .await
        .expect("range");
    assert!(samples.len() >= 2, "{samples:?}");
    assert!(samples.iter().all(|(_, v)| *v == Some(0.042)));
    let history = p.history(now, Duration::from_secs(1), 5).await;
    assert!(history.get("gauge_ms").is_some_and(|h| !h.is_empty()));
}

#[derive(Clone, Copy)]
enum Fault {
    Fine,
    ErrorJson,
    Text503,
    Malformed,
    Slow,
    Lying,
}

async fn fake_prometheus(fault: Arc<Mutex<Fault>>) -> Server {
    Server::start(move |r| {
        assert_eq!(r.path, "/api/v1/query");
        let f = *fault.lock().expect("fault");
        match f {
            Fault::Fine => {
                // The query names the value to answer: `value_<n>` (as a string sample).
                let query = r
                    .query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("query="))
                    .unwrap_or_default()
                    .replace("%2B", "+");
                let value = query.strip_prefix("value_").unwrap_or("NaN").to_string();
                Resp::json(
                    200,
                    json!({"status": "success", "data": {"resultType": "vector",
                        "result": [{"metric": {}, "value": [1_700_000_000.0, value]}]}}),
                )
            }
            Fault::ErrorJson => Resp::json(
                503,
                json!({"status": "error", "errorType": "unavailable", "error": "TSDB not ready"}),
            ),
            Fault::Text503 => Resp::text(503, "Service Unavailable"),
            Fault::Malformed => Resp::malformed(),
            Fault::Slow => Resp::json(200, json!({})).after(Duration::from_secs(3)),
            Fault::Lying => Resp::json(
                200,
                json!({"status": "success", "data": {"resultType": "matrix", "result": []}}),
            ),
        }
    })
    .await
}

#[tokio::test]
async fn prometheus_faults_make_metrics_unknown_with_an_error() {
    let fault = Arc::new(Mutex::new(Fault::Fine));
    let srv = fake_prometheus(fault.clone()).await;
    let p = Prometheus::new(
        &srv.url(),
        T,
        vec![
            q("a", "value_0.5", 100.0),
            q("b", "value_+Inf", 1.0),
            q("c", "value_7", 1.0),
        ],
    )
    .expect("client");

    // One bad value among good ones: only that metric is unknown, with its own error.
    let o = Source::read(&p).await;
    assert_eq!(o.metrics.get("a"), Some(&Some(50.0)));
    assert_eq!(o.metrics.get("b"), Some(&None));
    assert_eq!(o.metrics.get("c"), Some(&Some(7.0)));
    assert_eq!(o.errors.len(), 1);
    assert_eq!(o.errors[0].source.to_string(), "prometheus:b");
    assert!(o.errors[0].message.contains("+Inf"));

    for (f, want) in [
        (Fault::ErrorJson, "unavailable: TSDB not ready"),
        (Fault::Text503, "503"),
        (Fault::Malformed, "malformed JSON"),
        (Fault::Slow, "timed out after 800ms"),
        (Fault::Lying, "unexpected result type `matrix`"),
    ] {
        *fault.lock().expect("fault") = f;
        let o = Source::read(&p).await;
        assert!(o.metrics.values().all(|v| v.is_none()), "{o:?}");
        assert_eq!(
            o.errors.len(),
            1,
            "one error for a failing server: {:?}",
            o.errors
        );
        assert_eq!(o.errors[0].source.to_string(), "prometheus");
        assert!(o.errors[0].message.contains(want), "{want}: {:?}", o.errors);
    }

    let down = Prometheus::new(&dead_url().await, T, vec![q("a", "up", 1.0)]).expect("client");
    let o = Source::read(&down).await;
    assert_eq!(o.metrics.get("a"), Some(&None));
    assert!(
        o.errors[0].message.contains("cannot connect"),
        "{:?}",
        o.errors
    );
}

#[tokio::test]
async fn fifty_queries_are_read_concurrently() {
    let gauge = Arc::new(Gauge::default());
    let srv = Server::start_gauged(
        |_| {
            Resp::json(
                200,
                json!({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "2"]}}),
            )
            .after(Duration::from_millis(100))
        },
        gauge.clone(),
    )
    .await;
    let queries = (0..50).map(|i| q(&format!("m{i}"), "x", 1.0)).collect();
    let p = Prometheus::new(&srv.url(), Duration::from_secs(2), queries).expect("client");
    let o = Source::read(&p).await;
    assert_eq!(o.metrics.len(), 50);
    assert!(o.metrics.values().all(|v| *v == Some(2.0)));
    // Several queries in flight at once, not one after another.
    assert!(gauge.max() > 1, "one query at a time");
}
