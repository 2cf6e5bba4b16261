// Which objects the controller made (and so removes when what they were made for goes): the
// label it marks them with. One rule for the controller, which acts on it, and xctl, which says
// ahead what an apply will make the controller remove.
export const MANAGED_BY_LABEL = 'xnet.io/managed-by';
export const MANAGED_BY_VALUE = 'xnet-controller';

/** A HostSubnet the controller made for a Node (a hand-written one is the admin's and stays). */
export function isControllerMade(o: { metadata: { labels?: Record<string, string> } }): boolean {
  return o.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE;
}
