//! Latency samples and their percentiles.

use serde::Serialize;
use std::time::Duration;

#[derive(Default)]
pub struct Samples {
    nanos: Vec<u64>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

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
        }
    }
}
