/**
 * Start a worker thread from a module beside the caller: the compiled `<name>.js`, or, when the
 * project runs from TypeScript sources (ts-jest, ts-node: there is no .js), `<name>.ts` through a
 * small bootstrap that transpiles `.ts` files with the `typescript` package (a dev dependency
 * whenever sources run; no type check), so coverage instrumentation never reaches the worker.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';

const TS_WORKER_BOOTSTRAP = `
'use strict';
const { workerData } = require('worker_threads');
const fs = require('fs');
const Module = require('module');
const ts = require(workerData.bootstrap.typescript);
Module._extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(out.outputText, filename);
};
require(workerData.bootstrap.entry);
`;

/** `dir` is the caller's __dirname, `name` the worker module's name without extension; `fromSources`: the caller is a .ts file. */
export function startWorker(dir: string, name: string, workerData: object, fromSources: boolean): Worker {
  if (!fromSources) return new Worker(path.join(dir, `${name}.js`), { workerData });
  const bootstrap = { entry: path.join(dir, `${name}.ts`), typescript: require.resolve('typescript') };
  return new Worker(TS_WORKER_BOOTSTRAP, { eval: true, workerData: { ...workerData, bootstrap } });
}
