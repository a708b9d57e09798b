//! Commands, one file each: `--store` and `audit copy` (`store`), `watch`, and whether a
//! console on a PostgreSQL rollout leads or observes (`team`).

pub mod store;
pub mod team;
pub mod watch;
