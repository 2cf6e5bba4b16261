// Manifests are UTF-8 (as kubectl requires). Node's 'utf8' decoding turns a byte that is not
// into U+FFFD, so a Latin-1 file was stored changed without a word; it is refused instead,
// naming the file, line and column of the first such byte.
import type { ManifestIssue } from './errors.js';

const validPrefix = (buf: Buffer, n: number): boolean => {
  try {
    // stream: a sequence cut at n is not an error, only a byte that is no UTF-8 is
    new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(0, n), { stream: true });
    return true;
  } catch {
    return false;
  }
};

const complete = (buf: Buffer): boolean => {
  try { new TextDecoder('utf-8', { fatal: true }).decode(buf); return true; } catch { return false; }
};

/** The text of a manifest file's bytes, or where they stop being UTF-8. */
export function decodeManifest(buf: Buffer, file: string): { text: string } | { issue: ManifestIssue } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf) };
  } catch {
    // the longest prefix that is UTF-8 (a longer valid prefix implies every shorter one is)
    let lo = 0;
    let hi = buf.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (validPrefix(buf, mid)) lo = mid; else hi = mid - 1;
    }
    // a prefix may end in the first bytes of the bad sequence (stream mode waits for the
    // rest): the sequence's lead byte is where it goes wrong
    let at = Math.min(lo, buf.length - 1);
    if (!complete(buf.subarray(0, lo))) {
      at = lo - 1;
      while (at > 0 && lo - at < 4 && (buf[at] & 0xc0) === 0x80) at--;
    }
    const before = buf.subarray(0, at);
    const line = before.filter((b) => b === 0x0a).length + 1;
    const column = at - (before.lastIndexOf(0x0a) + 1) + 1;
    return { issue: { file, line, column, reason: `not UTF-8 (byte 0x${buf[at].toString(16).padStart(2, '0')}); save the file as UTF-8` } };
  }
}
