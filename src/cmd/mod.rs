//! Commands, one file each: `--store` and `audit copy` (`store`), `watch`.

pub mod store;
pub mod watch;
