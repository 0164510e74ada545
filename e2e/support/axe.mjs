// Accessibility checked by a real engine: axe-core (npm) run inside a page
// or frame of a journey. The pages' Content-Security-Policy allows no inline
// script, so axe's source is evaluated through the DevTools protocol, which
// the policy does not govern (as `watchCsp`'s init script is).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/// Runs axe on `target` (a Playwright page or frame) and fails on any
/// violation of impact serious or critical, naming rule, impact and nodes.
/// `what` names the state checked, for the message.
export async function assertAccessible(target, what) {
  if (!(await target.evaluate(() => typeof window.axe === 'object'))) {
    await target.evaluate(AXE_SOURCE);
  }
  const violations = await target.evaluate(async () => {
    // The frame is checked on its own (each frame gets its own axe run).
    const results = await window.axe.run(document, { iframes: false, resultTypes: ['violations'] });
    return results.violations.map(({ id, impact, help, nodes }) => ({
      id,
      impact,
      help,
      nodes: nodes.map((node) => `${node.target.join(' ')}: ${node.failureSummary}`),
    }));
  });
  const serious = violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
  if (serious.length > 0) {
    const lines = serious.map((v) => `- ${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.join('\n    ')}`);
    throw new Error(`accessibility (axe) of ${what}: ${serious.length} serious or critical violation(s)\n${lines.join('\n')}`);
  }
  return violations;
}
