// Intervals measured inside one process (an address's reuse cooldown) are timed on a clock that
// never steps when the wall clock is set (NTP, an admin, a resumed VM), as Date.now() does.
// Its readings are milliseconds since the process started: compared with each other only, never
// stored, sent or shown as a time of day.
export const monotonicMs = (): number => performance.now();
