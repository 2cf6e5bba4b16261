// What every validation rule reports: where in the object, and why.

export type FieldPath = (string | number)[];

export interface FieldIssue {
  /** path inside the object, e.g. ['spec', 'network', 'clusterNetwork'] */
  path: FieldPath;
  message: string;
}
