// A file is read no further once MAX_REFUSED_DOCUMENTS of its documents are refused. Each
// refused document costs its problems' messages on top of its parse: 16 MiB of `a: 1`
// documents (2.8 million, each missing apiVersion, kind and more) ran out of time, and of
// memory, before the millions of lines could be printed; a file of `a: [` documents took 45 s.
// Nobody reads past the first screens of such a list: what is shown is where the file went
// wrong, and that the rest was not checked.

export const MAX_REFUSED_DOCUMENTS = 1000;

export const STOPPED_READING = `stopped reading the file here: ${MAX_REFUSED_DOCUMENTS} of its documents are refused already, and the rest was not checked; fix these and run again`;

/** The documents of one file refused so far, by number, each counted once. */
export class RefusedDocuments {
  private count = 0;
  private last: number | undefined;

  /** Counts document `n` as refused (again, when it already is); whether to stop reading. */
  refuse(n: number): boolean {
    if (this.last !== n) this.count++;
    this.last = n;
    return this.count >= MAX_REFUSED_DOCUMENTS;
  }
}
