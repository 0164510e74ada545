//! Latency samples and their percentiles.

use serde::Serialize;
use std::time::Duration;

#[derive(Default)]
pub struct Samples {
    micros: Vec<u64>,
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
        self.micros.push(u64::try_from(latency.as_micros()).unwrap_or(u64::MAX));
    }

    pub fn summary(&mut self) -> Summary {
        self.micros.sort_unstable();
        let at = |quantile: f64| {
            if self.micros.is_empty() {
                return 0.0;
            }
            let index = ((self.micros.len() as f64 * quantile).ceil() as usize).clamp(1, self.micros.len()) - 1;
            self.micros[index] as f64 / 1000.0
        };
        Summary {
            count: self.micros.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: self.micros.last().map(|max| *max as f64 / 1000.0).unwrap_or(0.0),
        }
    }
}
