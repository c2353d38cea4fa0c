#!/usr/bin/env node
// @ts-check
/**
 * `npm run setup:tensorflow [-- --rebuild | --from-wheel | --ordinary]`: install @tensorflow/tfjs-node
 * next to the project so the `tensorflow` backend runs.
 *
 * Where the libtensorflow host is reachable this is the ordinary install (its install step downloads
 * libtensorflow and a prebuilt addon). Where it is not, the addon is built from a TensorFlow wheel on
 * disk: the package is installed with its install step skipped, the TensorFlow C libraries and headers
 * are unzipped from the wheel into the package's `deps/`, and `node-pre-gyp` compiles the addon
 * against them. Idempotent: a working install is left alone (`--rebuild` forces the build).
 * Needs at setup time only: npm registry access, and for the build unzip, make, a C++ compiler,
 * python3 (node-gyp's gyp) and Node's headers. Nothing here runs at run time.
 */
'use strict';
const { spawnSync } = require('child_process');
const dns = require('dns');
const fs = require('fs');
const path = require('path');

const PACKAGE = '@tensorflow/tfjs-node';
const VERSION = '4.22.0';
const ROOT = path.resolve(__dirname, '..');
const PACKAGE_DIR = path.join(ROOT, 'node_modules', ...PACKAGE.split('/'));
/** Host the ordinary install downloads libtensorflow from (tfjs-node's scripts/install.js). */
const LIBRARY_HOST = 'storage.googleapis.com';
const WHEEL_DIRS = ['/opt/pypi/files'];
/** Header folders of the wheel the addon's includes reach (xla/tsl/c is needed by tsl_status.h). */
const HEADER_DIRS = ['tensorflow/c/', 'tensorflow/core/platform/', 'tsl/platform/', 'xla/tsl/c/'];
/** Library in the wheel → names the addon links (-ltensorflow -ltensorflow_framework). */
const LIBRARIES = [
  { file: 'libtensorflow_cc.so.2', links: ['libtensorflow.so', 'libtensorflow.so.2'] },
  { file: 'libtensorflow_framework.so.2', links: ['libtensorflow_framework.so'] },
];

class SetupError extends Error {}

const say = (/** @type {string} */ s) => process.stdout.write(`setup:tensorflow: ${s}\n`);

/**
 * Run a command, inheriting output; throw a SetupError naming `what` on failure.
 * @param {string} cmd @param {string[]} args @param {string} what @param {{cwd?: string, env?: NodeJS.ProcessEnv}} [opts]
 */
function run(cmd, args, what, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: opts.cwd ?? ROOT, env: opts.env ?? process.env });
  if (r.error) throw new SetupError(`${what}: could not start ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new SetupError(`${what} failed (${cmd} exited with status ${r.status})`);
}

/** @param {string} cmd */
function onPath(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Load tfjs-node in a child process (it costs ~0.4 GB) and run one op on the tensorflow backend.
 * @returns {{ ok: true, tensorflow: string } | { ok: false, reason: string }}
 */
function probe() {
  const script = `
    require('${PACKAGE}');
    const tf = require('@tensorflow/tfjs');
    tf.setBackend('tensorflow').then((ok) => {
      if (!ok || tf.getBackend() !== 'tensorflow') throw new Error('the tensorflow backend did not initialise');
      const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync();
      if (y[0] !== 3) throw new Error('a test matMul gave ' + y[0]);
      process.stdout.write('TF_VERSION=' + tf.backend().binding.TF_Version + '\\n');
    }).catch((e) => { console.error(e.message); process.exit(1); });`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  const version = /TF_VERSION=(\S+)/.exec(r.stdout ?? '');
  if (r.status === 0 && version) return { ok: true, tensorflow: version[1] };
  // The first "…Error: message" line names the cause (a missing addon or library, a failed op).
  const cause = /^\w*Error: (.+)$/m.exec(r.stderr ?? '');
  return { ok: false, reason: cause ? cause[1].trim() : `exit status ${r.status}` };
}

function installedVersion() {
  try {
    return JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')).version;
  } catch {
    return null;
  }
}

/**
 * `npm install` the package without touching package.json or the lock file. `--save-prod` is there
 * because the package is an optional peer dependency of this project, which npm otherwise treats as
 * satisfied by its absence ("up to date", nothing installed); `--no-save` keeps that in memory.
 * @param {boolean} runInstallScript
 */
function npmInstall(runInstallScript) {
  const args = ['install', '--no-save', '--save-prod', '--no-audit', '--no-fund', `${PACKAGE}@${VERSION}`];
  if (!runInstallScript) args.splice(1, 0, '--ignore-scripts');
  run('npm', args, `npm install ${PACKAGE}@${VERSION}${runInstallScript ? '' : ' (install step skipped)'}`);
}

/** @returns {Promise<boolean>} */
function libraryHostReachable() {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    dns.lookup(LIBRARY_HOST, (err) => {
      clearTimeout(timer);
      resolve(!err);
    });
  });
}

function findWheel() {
  const given = process.env.SQSNN_TENSORFLOW_WHEEL;
  if (given) {
    if (!fs.existsSync(given)) throw new SetupError(`SQSNN_TENSORFLOW_WHEEL=${given}: no such file`);
    return given;
  }
  for (const dir of WHEEL_DIRS) {
    if (!fs.existsSync(dir)) continue;
    const wheels = fs
      .readdirSync(dir)
      .filter((f) => /^tensorflow(_cpu)?-\d[^-]*-.*linux.*x86_64\.whl$/.test(f))
      .sort();
    if (wheels.length) return path.join(dir, wheels[wheels.length - 1]);
  }
  return null;
}

/** Everything the build from the wheel needs, checked up front so one message names what is missing. */
function checkBuildTools() {
  const missing = [];
  for (const [cmd, why] of [
    ['unzip', 'to extract the wheel'],
    ['make', 'for node-gyp'],
    ['python3', "for node-gyp's gyp (setup time only)"],
  ])
    if (!onPath(cmd)) missing.push(`${cmd} (${why})`);
  if (!['c++', 'g++', 'clang++'].some(onPath)) missing.push('a C++ compiler (c++, g++ or clang++)');
  const nodedir = process.env.npm_config_nodedir || nodeHeadersDir();
  if (!nodedir) missing.push("Node's C headers (node_api.h; apt package libnode-dev, or set npm_config_nodedir)");
  if (missing.length) throw new SetupError(`cannot build the addon; missing: ${missing.join('; ')}`);
}

/** A prefix whose include/node/node_api.h exists (node-gyp would otherwise download the headers). */
function nodeHeadersDir() {
  const candidates = [path.resolve(path.dirname(process.execPath), '..'), '/usr', '/usr/local'];
  return candidates.find((p) => fs.existsSync(path.join(p, 'include', 'node', 'node_api.h'))) ?? null;
}

/** @param {string} wheel */
function extractFromWheel(wheel) {
  const deps = path.join(PACKAGE_DIR, 'deps');
  const lib = path.join(deps, 'lib');
  const include = path.join(deps, 'include');
  const staging = path.join(deps, '.wheel');
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(lib, { recursive: true });
  const listing = spawnSync('unzip', ['-Z1', wheel], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (listing.status !== 0) throw new SetupError(`cannot read the wheel ${wheel} (unzip -Z1 failed)`);
  const entries = listing.stdout.split('\n');
  for (const { file } of LIBRARIES)
    if (!entries.includes(`tensorflow/${file}`)) throw new SetupError(`the wheel ${wheel} has no tensorflow/${file}`);
  const headerPatterns = HEADER_DIRS.map((d) => `tensorflow/include/${d}*`);
  say(`unzipping the TensorFlow C libraries and headers from ${path.basename(wheel)}`);
  run('unzip', ['-q', '-o', wheel, ...LIBRARIES.map((l) => `tensorflow/${l.file}`), ...headerPatterns, '-d', staging], 'unzip of the wheel');
  for (const { file, links } of LIBRARIES) {
    fs.renameSync(path.join(staging, 'tensorflow', file), path.join(lib, file));
    for (const link of links) {
      fs.rmSync(path.join(lib, link), { force: true });
      fs.symlinkSync(file, path.join(lib, link));
    }
  }
  fs.rmSync(include, { recursive: true, force: true });
  fs.renameSync(path.join(staging, 'tensorflow', 'include'), include);
  fs.rmSync(staging, { recursive: true, force: true });
}

function buildAddon() {
  const env = { ...process.env };
  env.npm_config_nodedir = env.npm_config_nodedir || /** @type {string} */ (nodeHeadersDir());
  const preGyp = require.resolve('@mapbox/node-pre-gyp/bin/node-pre-gyp', { paths: [PACKAGE_DIR] });
  say(`compiling the addon (node-pre-gyp --build-from-source, Node headers from ${env.npm_config_nodedir})`);
  run(process.execPath, [preGyp, 'install', '--build-from-source', '--loglevel=warn'], 'the addon build', { cwd: PACKAGE_DIR, env });
}

async function main() {
  const argv = process.argv.slice(2);
  const known = ['--rebuild', '--from-wheel', '--ordinary'];
  const unknown = argv.filter((a) => !known.includes(a));
  if (unknown.length) throw new SetupError(`unknown option(s) ${unknown.join(' ')}; known: ${known.join(' ')}`);
  const rebuild = argv.includes('--rebuild');

  if (!rebuild && installedVersion() === VERSION) {
    const p = probe();
    if (p.ok) {
      say(`${PACKAGE}@${VERSION} is installed and runs (TensorFlow ${p.tensorflow}); nothing to do`);
      return;
    }
    say(`${PACKAGE}@${VERSION} is installed but does not load (${p.reason}); setting it up again`);
  }

  let built = false;
  if (argv.includes('--ordinary') || (!argv.includes('--from-wheel') && (await libraryHostReachable()))) {
    say(`${LIBRARY_HOST} is reachable: ordinary install of ${PACKAGE}@${VERSION}`);
    try {
      npmInstall(true);
      built = true;
    } catch (e) {
      // A reachable name is not a working download (proxies, partial outages): the wheel is the fallback.
      if (argv.includes('--ordinary') || !findWheel()) throw e;
      say(`the ordinary install failed (${/** @type {Error} */ (e).message}); falling back to the wheel`);
    }
  }
  if (!built) {
    const wheel = findWheel();
    if (!wheel)
      throw new SetupError(
        `${LIBRARY_HOST} (libtensorflow) is not reachable and no TensorFlow wheel was found in ${WHEEL_DIRS.join(', ')}; ` +
          'set SQSNN_TENSORFLOW_WHEEL to a tensorflow(-cpu) manylinux x86_64 wheel',
      );
    checkBuildTools();
    say(`building the addon from ${wheel}`);
    if (installedVersion() !== VERSION) npmInstall(false);
    extractFromWheel(wheel);
    buildAddon();
  }
  const p = probe();
  if (!p.ok) throw new SetupError(`${PACKAGE} was installed but does not load: ${p.reason}`);
  say(`done: ${PACKAGE}@${VERSION} runs on TensorFlow ${p.tensorflow}; 'sqsnn info' now reports backend tensorflow`);
}

main().catch((e) => {
  process.stderr.write(`setup:tensorflow: ${e instanceof SetupError ? e.message : e.stack}\n`);
  process.exit(e instanceof SetupError ? 2 : 1);
});
