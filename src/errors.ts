/** User errors of the src/ layer, all `SqsnnError`s (one line, exit 2 via the CLI). */
import { SqsnnError } from '../kernels/errors';

/** A configuration that cannot work: an unknown kind, a bad size or option, a budget out of reach. */
export class ConfigError extends SqsnnError {}
