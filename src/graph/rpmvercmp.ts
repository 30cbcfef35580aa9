/**
 * rpm's version comparison, ported from rpm 4.18 (rpmio/rpmvercmp.c and
 * lib/rpmver.c) so that the graph accepts and refuses providers exactly as
 * rpm and dnf will when the build root is installed: segment-wise
 * alphanumeric comparison, `~` sorting before anything (pre-releases), `^`
 * sorting after the base version but before the next one (snapshots).
 */
import type { DepFlag } from '../spec/model.js';

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
// rpm's risalpha is ASCII only: any other byte is a separator.
const isAlpha = (c: string | undefined): boolean => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAlpha(c);

/** -1, 0 or 1 as rpmvercmp(a, b). */
export function rpmvercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    // A tilde sorts before everything, even the end of the string.
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    // A caret sorts after the end of the string but before any other segment.
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;
    const numeric = isDigit(a[i]);
    const inSegment = numeric ? isDigit : isAlpha;
    let ie = i;
    let je = j;
    while (ie < a.length && inSegment(a[ie])) ie++;
    while (je < b.length && inSegment(b[je])) je++;
    // A numeric segment is newer than an alpha one.
    if (je === j) return numeric ? 1 : -1;
    let one = a.slice(i, ie);
    let two = b.slice(j, je);
    if (numeric) {
      one = one.replace(/^0+/, '');
      two = two.replace(/^0+/, '');
      if (one.length !== two.length) return one.length > two.length ? 1 : -1;
    }
    if (one !== two) return one < two ? -1 : 1;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

export interface Evr {
  /** null when the EVR names no epoch (which is not the same as epoch 0 for rpm). */
  epoch: string | null;
  version: string;
  release: string | null;
}

/** rpm's parseEVR: `[epoch:]version[-release]`, release after the last '-'. */
export function parseEvr(evr: string): Evr {
  const digits = /^\d*/.exec(evr)![0];
  let epoch: string | null = null;
  let rest = evr;
  if (evr[digits.length] === ':') {
    epoch = digits === '' ? '0' : digits;
    rest = evr.slice(digits.length + 1);
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) } : { epoch, version: rest, release: null };
}

const LESS = 2;
const GREATER = 4;
const EQUAL = 8;

function senseBits(flag: DepFlag): number {
  return (flag.includes('<') ? LESS : 0) | (flag.includes('>') ? GREATER : 0) | (flag.includes('=') ? EQUAL : 0);
}

/**
 * Ordering of two EVRs as rpm sorts packages (rpmverCmp, Lua rpm.vercmp): a
 * missing epoch counts as 0, a missing release sorts before any release.
 */
export function compareEvr(a: Evr, b: Evr): -1 | 0 | 1 {
  return rpmvercmp(a.epoch ?? '0', b.epoch ?? '0') || rpmvercmp(a.version, b.version) || rpmvercmp(a.release ?? '', b.release ?? '');
}

/**
 * Whether two dependency ranges on the same name overlap (rpmdsCompare): a
 * provide satisfies a requirement exactly when this is true. A side without a
 * version is an existence test and overlaps everything.
 */
export function rangesOverlap(flagA: DepFlag | null, evrA: string | null, flagB: DepFlag | null, evrB: string | null): boolean {
  if (!flagA || !flagB || !evrA || !evrB) return true;
  const f1 = senseBits(flagA);
  const f2 = senseBits(flagB);
  const v1 = parseEvr(evrA);
  const v2 = parseEvr(evrB);
  let sense: -1 | 0 | 1 = 0;
  if (v1.epoch && v2.epoch) sense = rpmvercmp(v1.epoch, v2.epoch);
  else if (v1.epoch && Number(v1.epoch) > 0) sense = 1;
  else if (v2.epoch && Number(v2.epoch) > 0) sense = -1;
  if (sense === 0) {
    sense = rpmvercmp(v1.version, v2.version);
    if (sense === 0) {
      if (v1.release && v2.release) sense = rpmvercmp(v1.release, v2.release);
      // The side without a release matches any release when the other says "=".
      else if ((v1.release && f2 & EQUAL) || (v2.release && f1 & EQUAL)) return true;
    }
  }
  if (sense < 0) return Boolean(f1 & GREATER || f2 & LESS);
  if (sense > 0) return Boolean(f1 & LESS || f2 & GREATER);
  return Boolean((f1 & EQUAL && f2 & EQUAL) || (f1 & LESS && f2 & LESS) || (f1 & GREATER && f2 & GREATER));
}
