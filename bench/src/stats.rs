//! Latency samples and their percentiles.

use serde::Serialize;
use std::time::Duration;

#[derive(Default)]
pub struct Samples {
    nanos: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// The latency at each of [`QUANTILES`]: the distribution that
    /// `target/bench/report.html` draws.
    pub distribution: Vec<Quantile>,
}

/// One point of the distribution.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Quantile {
    pub q: f64,
    pub ms: f64,
}

/// Where the distribution is read: dense in the tail, where changes matter.
pub const QUANTILES: &[f64] = &[0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1.0];

impl Samples {
    pub fn record(&mut self, latency: Duration) {
        self.nanos.push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    pub fn summary(&mut self) -> Summary {
        self.nanos.sort_unstable();
        let at = |quantile: f64| {
            if self.nanos.is_empty() {
                return 0.0;
            }
            let index = ((self.nanos.len() as f64 * quantile).ceil() as usize).clamp(1, self.nanos.len()) - 1;
            self.nanos[index] as f64 / 1_000_000.0
        };
        Summary {
            count: self.nanos.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: self.nanos.last().map(|max| *max as f64 / 1_000_000.0).unwrap_or(0.0),
            distribution: QUANTILES.iter().map(|&q| Quantile { q, ms: at(q) }).collect(),
        }
    }
}
