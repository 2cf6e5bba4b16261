/**
 * Label selection, the one rule for `xctl get -l`, nodeSelector.matchLabels in the controller
 * and in the agent. A selector is a list of requirements, all of which must hold; an empty one
 * selects all. matchLabels (every key=value wanted is on the object) is the equality case.
 */

/**
 * One requirement, in the words of Kubernetes' LabelSelectorRequirement: `k=v` is In [v], `k!=v`
 * NotIn [v]. NotIn holds for an object without the key, as in Kubernetes: `tier!=db` means "not
 * a db", and an object with no tier is not one.
 */
export type LabelRequirement =
  | { key: string; operator: 'In' | 'NotIn'; values: string[] }
  | { key: string; operator: 'Exists' | 'DoesNotExist' };

export type LabelSelector = LabelRequirement[];

/** Whether labels meet every requirement of the selector; no selector, or an empty one, selects all. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  return (selector ?? []).every((r) => requirementMet(r, labels ?? {}));
}

function requirementMet(r: LabelRequirement, labels: Record<string, string>): boolean {
  // own keys only: a label named "constructor" must not be found on Object.prototype
  const has = Object.hasOwn(labels, r.key);
  switch (r.operator) {
    case 'In': return has && r.values.includes(labels[r.key]);
    case 'NotIn': return !has || !r.values.includes(labels[r.key]);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
  }
}

/** matchLabels' key=value pairs as a selector: one In requirement each. */
export function equalitySelector(want: Record<string, string> | undefined): LabelSelector {
  return Object.entries(want ?? {}).map(([key, value]) => ({ key, operator: 'In', values: [value] }));
}

export function matchLabels(want: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return selectorMatches(equalitySelector(want), labels);
}
