//! What the simulator can produce, named here so that `warroom check` can validate a runbook's
//! `sim:` keys without knowing the simulator.

/// The signals a runbook metric can take from the simulator (`sim:` key).
pub const SIGNALS: &[&str] = &[
    "request_rate",
    "error_rate",
    "blue.error_rate",
    "green.error_rate",
    "latency_p50",
    "latency_p95",
    "latency_p99",
    "blue.latency_p95",
    "green.latency_p95",
    "active_connections",
    "db_query_time",
    "db_pool_usage",
    "replication_lag",
    "lock_wait",
    "business_rate",
    "success_ratio",
    "new_path_share",
    "active_users",
    "cache_hit_rate",
    "read_throughput",
    "query_throughput",
    "cpu",
    "memory",
    "disk",
];

/// The built-in scenarios (`--scenario`); a runbook's own (`scenarios:`) may not take these names.
pub const SCENARIOS: &[&str] = &[
    "healthy",
    "bad-canary",
    "replica-lag",
    "flaky-flags",
    "latency-spike",
    "server-down",
];
