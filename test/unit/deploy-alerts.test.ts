// The Prometheus alerting rules shipped in deploy/prometheus/xnet-alerts.yml: every rule is
// complete (an alert name, an expression, a severity, a summary), and every metric and label
// its expression names is one xnet exports (pkg/metrics/metrics.ts, with the labels every series
// carries): a rule on a renamed metric would never fire, silently.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registerControllerMetrics, registry } from '../../pkg/metrics/metrics.js';

interface Rule { alert: string; expr: string; for?: string; labels?: { severity?: string }; annotations?: { summary?: string; description?: string } }
const rules = (parse(readFileSync('deploy/prometheus/xnet-alerts.yml', 'utf8')) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);

registerControllerMetrics();
/** metric -> its labels, with those every series carries (component, node) and a histogram's le */
const exported = new Map(registry.getMetricsAsArray().map((m) => [m.name, new Set([...((m as unknown as { labelNames?: string[] }).labelNames ?? []), 'component', 'node', 'le'])]));
const SUFFIXES = /_(bucket|sum|count)$/;

/** The xnet metrics an expression names, each with the labels it selects or groups by. */
function named(expr: string): Array<{ metric: string; labels: string[] }> {
  const by = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((l) => l.trim()));
  return [...expr.matchAll(/\b(xnet_[a-z_]+)(\{([^}]*)\})?/g)].map((m) => ({
    metric: m[1].replace(SUFFIXES, (s) => (exported.has(m[1]) ? s : '')),
    labels: [...by, ...(m[3] ?? '').split(',').map((s) => s.split(/[=!~]/)[0].trim()).filter(Boolean)],
  }));
}

describe('deploy/prometheus/xnet-alerts.yml', () => {
  it('has complete rules with distinct names', () => {
    expect(rules.length).toBeGreaterThanOrEqual(8);
    for (const r of rules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Xnet[A-Z][A-Za-z]+$/);
      expect(['critical', 'warning', 'info'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.expr, r.alert).toMatch(/xnet_/);
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
  });

  it('names only metrics xnet exports, and only their labels', () => {
    for (const r of rules) {
      for (const { metric, labels } of named(r.expr)) {
        expect(exported.has(metric), `${r.alert}: ${metric} is not a metric of pkg/metrics`).toBe(true);
        for (const l of labels) expect([...exported.get(metric)!], `${r.alert}: ${metric} has no label ${l}`).toContain(l);
      }
    }
  });
});
