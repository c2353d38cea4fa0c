/**
 * The package surface: what `require('sqsnn')` gives (the grouped API of src/index.ts, without
 * internals) and what the tarball holds (package.json `exports` and `files`).
 */
import * as fs from 'fs';
import * as path from 'path';
import * as api from '../src';

const ROOT = path.join(__dirname, '..');

test('the index exports the names of the README examples and the extension points, and no internals', () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const imported = [...readme.matchAll(/import \{([^}]+)\} from 'sqsnn'/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()));
  expect(imported.length).toBeGreaterThan(3);
  for (const name of imported) expect(api).toHaveProperty(name);
  for (const name of ['NEURON_KINDS', 'LEARNING_RULES', 'DATASETS', 'GATE_LIST', 'createLayer', 'createRule', 'loadDataset', 'NeuronSimulator', 'exportQasm', 'likelihoodReport', 'SqsnnError'])
    expect(api).toHaveProperty(name);
  for (const internal of ['cadd', 'cmul', 'fusedSupported', 'fusedSqsStep', 'sqsStepFusedGrad', 'registerNeuron', 'registerRule', 'lockRunFolder'])
    expect(api).not.toHaveProperty(internal);
});

test('package.json exports only the built index and ships only the build, docs and README', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.exports['.']).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
  expect(pkg.main).toBe('dist/src/index.js');
  expect(pkg.bin.sqsnn.startsWith('dist/src/')).toBe(true);
  expect(pkg.files).toEqual(['dist/src/', 'dist/kernels/', 'docs/', 'README.md']);
  // The build of src/ and kernels/ lands where `files` and `exports` point.
  const tsconfig = JSON.parse(fs.readFileSync(path.join(ROOT, 'tsconfig.json'), 'utf8'));
  expect([tsconfig.compilerOptions.outDir, tsconfig.compilerOptions.rootDir]).toEqual(['dist', '.']);
});
