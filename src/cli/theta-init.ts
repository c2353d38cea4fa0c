/** The `--theta-init` flag's text form, parsed into a θ initialisation (src/neurons/init.ts). */
import { ThetaInit, resolveThetaInit } from '../neurons/init';
import { UsageError } from './options';

/**
 * The `--theta-init` flag: `normal` | `normal:STD` | `uniform` | `uniform:LOW,HIGH` |
 * `authors-local` | `authors-local:mirror`.
 */
export function parseThetaInit(text: string): ThetaInit {
  const [kind, arg] = text.split(':', 2);
  const nums = (s: string) => s.split(',').map((v) => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x)) throw new UsageError(`--theta-init ${text}: '${v}' is not a number`);
    return x;
  });
  let init: ThetaInit;
  if (kind === 'normal') init = arg === undefined ? { kind } : { kind, std: nums(arg)[0] };
  else if (kind === 'uniform') {
    const v = arg === undefined ? [] : nums(arg);
    if (arg !== undefined && v.length !== 2) throw new UsageError(`--theta-init uniform:LOW,HIGH needs two numbers, got '${arg}'`);
    init = arg === undefined ? { kind } : { kind, low: v[0], high: v[1] };
  } else if (kind === 'authors-local') {
    if (arg !== undefined && arg !== 'mirror') throw new UsageError(`--theta-init authors-local takes only ':mirror', got '${arg}'`);
    init = arg ? { kind, mirror: true } : { kind };
  } else throw new UsageError(`--theta-init must be normal[:STD], uniform[:LOW,HIGH] or authors-local[:mirror], got '${text}'`);
  resolveThetaInit(init);
  return init;
}
