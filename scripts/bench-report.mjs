// The benchmark run as one HTML page (target/bench/report.html): the summary
// table and the latency distribution of the relay runs as an SVG chart drawn
// here (no chart library), with a text summary and the data as a table, so a
// change in the tail shows at a glance. Used by bench-summary.mjs.

const escape = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const WIDTH = 720;
const HEIGHT = 320;
const LEFT = 56;
const BOTTOM = 36;
const COLOURS = ['#1f5fbf', '#b3261e', '#1e7d32', '#8a5a00'];

/// The x of quantile `q` on a "nines" scale: 0.9 → 1, 0.99 → 2, 0.999 → 3…
const nines = (q) => (q >= 1 ? 4.5 : Math.min(4.5, -Math.log10(1 - q)));

/// The latency chart of `runs` ([{ name, distribution: [{q, ms}] }]): SVG markup.
export function latencyChart(runs, summary) {
  const drawn = runs.filter((run) => run.distribution?.length);
  const maxMs = Math.max(1, ...drawn.flatMap((run) => run.distribution.map((point) => point.ms)));
  // A log scale for latency too: the tail is orders of magnitude above the median.
  const minMs = Math.max(0.01, Math.min(...drawn.flatMap((run) => run.distribution.map((point) => point.ms)).filter((ms) => ms > 0), maxMs));
  const x = (q) => LEFT + (nines(q) / 4.5) * (WIDTH - LEFT - 10);
  const y = (ms) => {
    const span = Math.log10(maxMs) - Math.log10(minMs) || 1;
    return 10 + (1 - (Math.log10(Math.max(ms, minMs)) - Math.log10(minMs)) / span) * (HEIGHT - BOTTOM - 10);
  };
  const ticks = [0.5, 0.9, 0.99, 0.999, 0.9999].map(
    (q) => `<line x1="${x(q)}" x2="${x(q)}" y1="10" y2="${HEIGHT - BOTTOM}" class="grid"/><text x="${x(q)}" y="${HEIGHT - BOTTOM + 16}" text-anchor="middle">p${(q * 100).toString()}</text>`,
  );
  const msTicks = [minMs, Math.sqrt(minMs * maxMs), maxMs].map(
    (ms) => `<text x="${LEFT - 6}" y="${y(ms) + 4}" text-anchor="end">${ms.toFixed(ms < 10 ? 2 : 0)}</text>`,
  );
  const lines = drawn.map((run, index) => {
    const points = run.distribution.map((point) => `${x(point.q).toFixed(1)},${y(point.ms).toFixed(1)}`).join(' ');
    return `<polyline points="${points}" fill="none" stroke="${COLOURS[index % COLOURS.length]}" stroke-width="2"/>`;
  });
  const legend = drawn
    .map((run, index) => `<span class="key"><span class="swatch" style="background:${COLOURS[index % COLOURS.length]}"></span>${escape(run.name)}</span>`)
    .join(' ');
  return `<figure>
<figcaption><h2>customer→agent latency by percentile</h2><p>${escape(summary)}</p></figcaption>
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escape(summary)}">
${ticks.join('\n')}
${msTicks.join('\n')}
<text x="12" y="${HEIGHT / 2}" transform="rotate(-90 12 ${HEIGHT / 2})" text-anchor="middle">ms (log)</text>
${lines.join('\n')}
</svg>
<p class="legend">${legend}</p>
</figure>`;
}

/// What the chart says in words: each run's median and its worst tail.
export function latencySummary(runs) {
  const drawn = runs.filter((run) => run.distribution?.length);
  if (drawn.length === 0) return 'No relay run measured latency in this run.';
  return drawn
    .map((run) => {
      const at = (q) => run.distribution.find((point) => point.q === q)?.ms;
      const fmt = (ms) => (typeof ms === 'number' ? `${ms.toFixed(2)} ms` : '—');
      return `${run.name}: p50 ${fmt(at(0.5))}, p99 ${fmt(at(0.99))}, p99.9 ${fmt(at(0.999))}, max ${fmt(at(1))}.`;
    })
    .join(' ');
}

/// The whole page.
export function reportHtml({ rows, runs, quick, measuredAt, mark }) {
  const summary = latencySummary(runs);
  const table = rows
    .map(({ figure, measured, target, met }) => `<tr><td>${escape(figure)}</td><td class="num">${escape(measured ?? 'not measured')}</td><td class="num">${escape(target)}</td><td>${escape(mark(met).replace(/\*/g, ''))}</td></tr>`)
    .join('\n');
  const quantiles = [...new Set(runs.flatMap((run) => (run.distribution ?? []).map((point) => point.q)))].sort((a, b) => a - b);
  const data = quantiles
    .map((q) => `<tr><td>p${(q * 100).toString()}</td>${runs.map((run) => `<td class="num">${run.distribution?.find((point) => point.q === q)?.ms.toFixed(3) ?? '—'}</td>`).join('')}</tr>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard benchmark report</title>
<style>
body { font: 15px/1.4 system-ui, sans-serif; margin: 1rem auto; max-width: 60rem; padding: 0 1rem; color: #1b1f24; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
td, th { border-bottom: 1px solid #d5d9df; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
.num { text-align: right; }
svg { width: 100%; height: auto; font-size: 12px; }
svg .grid { stroke: #d5d9df; }
figure { margin: 1.5rem 0; }
.legend .key { margin-right: 1rem; }
.swatch { display: inline-block; width: 1rem; height: 0.3rem; margin-right: 0.3rem; vertical-align: middle; }
</style></head><body>
<h1>Switchboard benchmark report</h1>
<p>Measured ${escape(measuredAt)} on this machine (load generator on the same box).${quick ? ' <strong>Quick run</strong>: a smoke test; the figures are not comparable with the targets.' : ''}</p>
<table><thead><tr><th>figure</th><th class="num">measured</th><th class="num">target</th><th>met</th></tr></thead><tbody>
${table}
</tbody></table>
${latencyChart(runs, summary)}
<details><summary>Latency data (ms)</summary>
<table><thead><tr><th>percentile</th>${runs.map((run) => `<th class="num">${escape(run.name)}</th>`).join('')}</tr></thead><tbody>
${data}
</tbody></table></details>
</body></html>
`;
}
