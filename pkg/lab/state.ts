// Placeholder until the lab lands: endpoints of the running lab, when there is one.
export function runningLabEndpoints(): string[] | undefined {
  return undefined;
}
