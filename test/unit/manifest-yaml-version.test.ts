// A `%YAML` directive other than 1.2 would switch the reader to another YAML (1.1: `yes` and `on`
// booleans, `0755` octal), though xctl reads YAML 1.2 (docs/xctl.md): it is refused at its line,
// and every document is still read as 1.2, so the reasons given for its fields are 1.2's.
import { describe, expect, it } from 'vitest';
import { parseSources } from '../../pkg/manifest/load.js';
import { refuse } from './manifest-refuse.js';

const NODE = (name: string) => `apiVersion: xnet.io/v1alpha1\nkind: Node\nmetadata:\n  name: ${name}\n  labels:\n    enabled: yes\n`;
const WHY = 'xctl reads YAML 1.2 only, where yes, no, on and off are strings and 0755 is the number 755; remove the directive';

describe('%YAML directives', () => {
  it('refuses %YAML 1.1 at its line, naming the document it opens, and reads no document as 1.1', () => {
    const issues = refuse(`# header\n%YAML 1.1\n---\n${NODE('a')}---\n${NODE('b')}`);
    expect(issues.map((i) => [i.line, i.document, i.path, i.reason])).toEqual([[2, 1, undefined, `%YAML 1.1: ${WHY}`]]);
  });

  it('refuses a directive before a later document at its own line', () => {
    const issues = refuse(`${NODE('a')}...\n%YAML 1.1\n---\n${NODE('b')}`);
    expect(issues.map((i) => [i.line, i.document, i.reason])).toEqual([[8, 2, `%YAML 1.1: ${WHY}`]]);
  });

  it('refuses a version the reader does not know (%YAML 1.3), which it would read as 1.2 with only a warning', () => {
    const issues = refuse(`%YAML 1.3\n---\n${NODE('a')}`);
    expect(issues.map((i) => [i.line, i.document, i.reason])).toEqual([[1, 1, `%YAML 1.3: ${WHY}`]]);
  });

  it('accepts %YAML 1.2, and yes stays the string it is there', () => {
    const [l] = parseSources([{ file: 'm.yaml', text: `%YAML 1.2\n---\n${NODE('a')}` }]);
    expect(l.object.metadata.labels).toEqual({ enabled: 'yes' });
  });
});
