/**
 * Tests run through ts-jest on the backend chosen by SQSNN_BACKEND (default: best available).
 * test/tensorflow/ needs @tensorflow/tfjs-node and runs as its own job: jest.tensorflow.config.js.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/tensorflow/'],
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true, diagnostics: false }] },
  testTimeout: 120000,
  maxWorkers: 2,
};
