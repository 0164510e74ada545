//! Switchboard's measuring instruments, shared by the binaries:
//! `loadgen` (throughput and latency next to a raw echo baseline) and
//! `faultcheck` (lost, duplicated and out-of-order messages under a nemesis),
//! `routebench` and `connbench`. Each writes its report with `--json FILE`.

pub mod client;
pub mod echo;
pub mod infra;
pub mod process;
pub mod relay;
pub mod report;
pub mod server;
pub mod stats;
