// What the manifest tests share: the issues xctl reports for sources it refuses, and a
// failure when it accepts them.
import { expect } from 'vitest';
import { parseSources } from '../../pkg/manifest/load.js';
import { ManifestError, type ManifestIssue } from '../../pkg/manifest/errors.js';
import type { DocumentBounds } from '../../pkg/manifest/document-bounds.js';

/** The issues parseSources reports for `sources`; the test fails when they are accepted. */
export function refuseAll(sources: { file: string; text: string }[], bounds?: DocumentBounds): ManifestIssue[] {
  try {
    parseSources(sources, bounds);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    return (e as ManifestError).issues;
  }
  throw new Error('manifest was accepted');
}

/** The issues for one file's `text` (named m.yaml unless said), read within `bounds` (default xctl's). */
export function refuse(text: string, file = 'm.yaml', bounds?: DocumentBounds): ManifestIssue[] {
  return refuseAll([{ file, text }], bounds);
}
