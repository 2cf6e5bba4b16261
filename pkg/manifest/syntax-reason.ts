// The yaml library's wording for a syntax error says too little when the input is nested
// deeper than its parser can follow: "Maximum call stack size exceeded" is that, not a crash
// of xctl. (A key given twice is found by duplicate-keys.ts, with the key and its first copy.)
import type { YAMLError } from 'yaml';

/** The reason to report for a syntax error. */
export function syntaxReason(e: YAMLError): string {
  const reason = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  if (/Maximum call stack size exceeded/.test(reason)) {
    return 'nested too deeply to read (brackets or indentation hundreds of levels deep; no xnet object nests more than a few)';
  }
  return reason;
}
