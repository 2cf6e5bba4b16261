/**
 * Label selection, the one rule for `xctl get -l`, nodeSelector.matchLabels in the controller
 * and in the agent: every key=value wanted is on the object; an empty selector selects all.
 */
export function matchLabels(want: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => labels?.[k] === v);
}
