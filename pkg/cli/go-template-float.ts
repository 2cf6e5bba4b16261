// Go's strconv.FormatFloat for printf's %e, %f and %g (and %v): from the float64's exact decimal
// value, rounded as Go rounds it (to the nearest, an exact tie to the even digit: `%.0f` of 2.5 is
// "2", `%.2f` of 0.125 is "0.12"), to any precision. JavaScript's toFixed and toExponential round
// a tie up, stop at 100 digits (`%.150f` threw), and toFixed gives "1e+22" from 1e22. Pure.

/** A positive number as decimal digits: 0.`d` × 10^`dp`; `d` has no trailing zeros ("" for 0). */
interface Decimal { d: string; dp: number }

const trimmed = (d: string, dp: number): Decimal => ({ d: d.replace(/0+$/, ''), dp: d.replace(/0+$/, '') ? dp : 0 });

/** Every digit of |x|: a float64 is mant × 2^e2, and 2^-k is 5^k / 10^k, so the expansion ends. */
function exactDecimal(x: number): Decimal {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  let mant = bits & ((1n << 52n) - 1n);
  if (biased !== 0) mant |= 1n << 52n;
  const e2 = (biased === 0 ? 1 : biased) - 1075;
  if (mant === 0n) return { d: '', dp: 0 };
  const digits = e2 >= 0 ? (mant << BigInt(e2)).toString() : (mant * 5n ** BigInt(-e2)).toString();
  return trimmed(digits, e2 >= 0 ? digits.length : digits.length + e2);
}

/** The fewest digits that read back as x (JavaScript's and Go's shortest agree). */
function shortestDecimal(x: number): Decimal {
  if (x === 0) return { d: '', dp: 0 };
  const [mant, exp] = Math.abs(x).toExponential().split('e');
  return trimmed(mant.replace('.', ''), Number(exp) + 1);
}

/** `dec` kept to `nd` digits, as Go's decimal.Round: nearest, an exact tie to even; nd < 0 keeps all. */
function rounded(dec: Decimal, nd: number): Decimal {
  const { d, dp } = dec;
  if (nd < 0 || nd >= d.length) return dec;
  const tie = d[nd] === '5' && nd + 1 === d.length;
  const up = tie ? nd > 0 && Number(d[nd - 1]) % 2 === 1 : d[nd] >= '5';
  if (!up) return trimmed(d.slice(0, nd), dp);
  let i = nd - 1;
  while (i >= 0 && d[i] === '9') i--;
  // all nines (or no digit kept): 0.999 becomes 1.000, one more digit before the point
  if (i < 0) return { d: '1', dp: dp + 1 };
  return { d: d.slice(0, i) + String(Number(d[i]) + 1), dp };
}

const digitAt = (dec: Decimal, j: number): string => (j >= 0 && j < dec.d.length ? dec.d[j] : '0');

/** Go's fmtE: d.ddd (prec digits after the point), then e±XX. */
function fmtE(dec: Decimal, prec: number): string {
  let out = dec.d[0] ?? '0';
  if (prec > 0) { out += '.'; for (let i = 1; i <= prec; i++) out += digitAt(dec, i); }
  const exp = dec.d.length ? dec.dp - 1 : 0;
  return `${out}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Go's fmtF: the integer digits (0 when none), then prec digits after the point. */
function fmtF(dec: Decimal, prec: number): string {
  let out = dec.dp > 0 ? dec.d.slice(0, dec.dp).padEnd(dec.dp, '0') : '0';
  if (prec > 0) { out += '.'; for (let i = 1; i <= prec; i++) out += digitAt(dec, dec.dp + i - 1); }
  return out;
}

/** Go's %g: %e when the exponent is below -4 or at least the precision (6 for the shortest), else %f. */
function fmtG(dec: Decimal, prec: number, shortest: boolean): string {
  let eprec = prec;
  if (eprec > dec.d.length && dec.d.length >= dec.dp) eprec = dec.d.length;
  if (shortest) eprec = 6;
  const exp = dec.dp - 1;
  if (exp < -4 || exp >= eprec) return fmtE(dec, Math.min(prec, dec.d.length) - 1);
  return fmtF(dec, Math.max((prec > dec.dp ? dec.d.length : prec) - dec.dp, 0));
}

/**
 * strconv.FormatFloat(x, fmt, prec, 64) for a finite x: 'e' and 'f' with `prec` digits after the
 * point, 'g' with `prec` significant digits; a negative `prec` is the shortest that reads back.
 */
export function formatFloat(x: number, fmt: 'e' | 'f' | 'g', prec: number): string {
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const shortest = prec < 0;
  let dec = shortest ? shortestDecimal(x) : exactDecimal(x);
  if (shortest) prec = fmt === 'e' ? Math.max(dec.d.length - 1, 0) : fmt === 'f' ? Math.max(dec.d.length - dec.dp, 0) : dec.d.length;
  else dec = rounded(dec, fmt === 'e' ? prec + 1 : fmt === 'f' ? dec.dp + prec : prec || 1);
  if (fmt === 'g' && !shortest && prec === 0) prec = 1;
  const text = fmt === 'e' ? fmtE(dec, prec) : fmt === 'f' ? fmtF(dec, prec) : fmtG(dec, prec, shortest);
  return sign + text;
}
