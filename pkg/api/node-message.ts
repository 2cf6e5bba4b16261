// A node's message on a MacvlanNet, as the controller keeps it in the status every node reads:
// at most MAX_MACVLAN_NODE_MESSAGE long. One rule for the agent's messages the controller copies
// (controller/macvlan-agent.ts) and those the controller makes itself (dockeripam/fair-share.ts).
import { MAX_MACVLAN_NODE_MESSAGE } from './conditions.js';

const CUT = '...';
/** the least kept of a message's start when its last clause is kept whole: what went wrong */
const MIN_START = 60;
/** the most of a word cut off the start to end it at a word */
const MAX_WORD = 20;

/**
 * `i` moved by `step` when it falls between the two halves of a UTF-16 surrogate pair (a
 * character outside the Basic Multilingual Plane): a cut there would leave half a character,
 * which prints as U+FFFD. Moving away from the cut only shortens what is kept.
 */
function offPair(m: string, i: number, step: 1 | -1): number {
  const low = m.charCodeAt(i), high = m.charCodeAt(i - 1);
  return low >= 0xdc00 && low <= 0xdfff && high >= 0xd800 && high <= 0xdbff ? i + step : i;
}

/**
 * A node's message at most `max` long, cut in its middle: its start says what is wrong and its
 * end what to do (the agent's messages end with the remedy, after their last "; "), while what
 * lies between (the containers, addresses, a setting's old and new value) is what can go. Cut at
 * its end, the remedy was what a long list of names pushed out. A last clause too long to keep
 * whole with the start leaves the message's last third, from a word's start. The start is cut
 * at a word's end when one is near.
 */
export function clipNodeMessage(m: string, max = MAX_MACVLAN_NODE_MESSAGE): string {
  if (m.length <= max) return m;
  const room = max - CUT.length;
  const clause = m.lastIndexOf('; ');
  let from = clause;
  if (clause < MIN_START || m.length - clause > room - MIN_START) {
    from = m.length - Math.floor(room / 3);
    const word = m.indexOf(' ', from);
    if (word > 0 && word < m.length - 1) from = word;
  }
  const end = m.slice(offPair(m, from, 1));
  const start = m.slice(0, offPair(m, room - end.length, -1));
  // ends at a word when one ends near: "want..." rather than "want 198.19.7..."
  const word = start.lastIndexOf(' ');
  return `${word >= start.length - MAX_WORD ? start.slice(0, word) : start}${CUT}${end}`;
}
