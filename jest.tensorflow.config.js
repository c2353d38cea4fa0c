/**
 * The tensorflow job (`.ci/run` runs it after `npm run setup:tensorflow`, with SQSNN_BACKEND=tensorflow):
 * test/tensorflow/ (cross-backend equality, training steps vs wasm, tensor counts) and the kernel,
 * gradient and sync-count files of the default suite, run again on the composed ops a GPU runs.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testPathIgnorePatterns: ['/node_modules/'],
  testMatch: [
    '<rootDir>/test/tensorflow/**/*.test.ts',
    ...['kernels.statevector', 'kernels.density', 'kernels.sampling', 'bptt', 'train-optimizer', 'train-syncs', 'adam', 'shards', 'local', 'local-kernel'].map((f) => `<rootDir>/test/${f}.test.ts`),
  ],
};
