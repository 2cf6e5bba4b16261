// The `%YAML` directive. The yaml library switches to YAML 1.1 on `%YAML 1.1` (`yes` and `on`
// become booleans, `0755` octal 493), and keeps doing so for the documents after it, though a
// directive belongs to one document; a version it does not know (`%YAML 1.3`) it reads as 1.2
// with only a warning. xctl reads YAML 1.2 (docs/xctl.md), so such a directive is refused at
// its line, with why, and is taken out of the stream: every document is read as 1.2, and the
// reasons given for its fields are 1.2's. (kubectl's YAML parser, go-yaml v2, reads 1.1
// whatever the directive, and refuses `%YAML 1.2`; a file it read with `%YAML 1.1` reads the same here once
// the directive is gone, but for the values the reasons name.)
import type { CST } from 'yaml';

export const READ_VERSION = '1.2';

export interface RefusedDirective {
  offset: number;
  reason: string;
}

const WHY = `xctl reads YAML ${READ_VERSION} only, where yes, no, on and off are strings and 0755 is the number 755; remove the directive`;

/** The version a `%YAML` directive names, as written; undefined for another directive. */
function versionOf(source: string): string | undefined {
  const m = /^%YAML[ \t]+(\S*)/.exec(source);
  return m ? m[1] : undefined;
}

/**
 * The tokens without the `%YAML` directives that name another version than 1.2, each of which
 * goes to `refused` as it is met.
 */
export function* withoutOtherVersions(tokens: Iterable<CST.Token>, refused: RefusedDirective[]): Generator<CST.Token> {
  for (const t of tokens) {
    const version = t.type === 'directive' ? versionOf(t.source) : undefined;
    if (version === undefined || version === READ_VERSION) {
      yield t;
      continue;
    }
    refused.push({ offset: t.offset, reason: `%YAML ${version}: ${WHY}` });
  }
}
