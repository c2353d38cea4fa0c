/**
 * The one base class of user errors: a bad input, flag, file or size whose message is the whole
 * story. The CLI prints such an error on one line and exits 2 (`instanceof SqsnnError`); anything
 * else is a bug and keeps its stack.
 */
export class SqsnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
