/**
 * The tiny grid through a real one-node Slurm cluster (test/slurm/cluster.sh) gives the same report
 * as `sqsnn experiment run` of the same config, apart from the times. Needs root and Debian's
 * slurmctld, slurmd, slurm-client and munge packages (`.ci/run` installs them), and a built dist/.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const root = path.join(__dirname, '..', '..');
const cli = path.join(root, 'dist', 'src', 'cli.js');
const cluster = path.join(__dirname, 'cluster.sh');
const tiny = path.join(root, 'examples', 'experiment-tiny.json');
const missing = [
  ...(process.getuid?.() === 0 ? [] : ['root']),
  ...['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/bin/sbatch', '/usr/sbin/munged'].filter((f) => !fs.existsSync(f)),
];
const slurmTest = missing.length ? test.skip : test;
if (missing.length) process.stderr.write(`slurm.test.ts: skipped, missing ${missing.join(', ')}\n`);

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sqsnn-slurm-test-'));
const env = {
  ...process.env,
  SQSNN_SLURM_DIR: path.join(work, 'cluster'),
  // Ports of its own, so a developer's cluster on the default ports does not collide with it.
  SQSNN_SLURMCTLD_PORT: '6937',
  SQSNN_SLURMD_PORT: '6938',
};

afterAll(() => {
  if (fs.existsSync(env.SQSNN_SLURM_DIR)) spawnSync('bash', [cluster, 'down'], { env, stdio: 'inherit' });
  fs.rmSync(work, { recursive: true, force: true });
});

/** The rows of results.csv without the training time (the last column), and results.md's tables without times. */
function deterministic(dir: string): { csv: string[]; md: string[] } {
  const lines = fs.readFileSync(path.join(dir, 'results.csv'), 'utf8').trim().split('\n');
  const timing = lines[0].split(',').indexOf('trainSeconds'); // wall time: the one column that differs
  const csv = lines.map((l) => l.split(',').filter((_, i) => i !== timing).join(','));
  const md = fs.readFileSync(path.join(dir, 'results.md'), 'utf8').split('\n').filter((l) => l.startsWith('| ')).map((l) => l.replace(/\| [\d.]+ s \|$/, '|'));
  return { csv, md };
}

slurmTest('the tiny grid as a Slurm job array reports what `experiment run` reports', () => {
  expect(fs.existsSync(cli)).toBe(true); // npm run build
  const up = execFileSync('bash', [cluster, 'up'], { env, encoding: 'utf8' });
  const conf = up.trim().split('\n').pop() as string;
  expect(conf).toBe(path.join(env.SQSNN_SLURM_DIR, 'slurm.conf'));
  const slurmEnv = { ...env, SLURM_CONF: conf };
  const pids = ['slurmctld.pid', 'slurmd.pid'].map((f) => Number(fs.readFileSync(path.join(env.SQSNN_SLURM_DIR, f), 'utf8')));

  const viaSlurm = path.join(work, 'slurm-run');
  const s = spawnSync(process.execPath, [cli, 'experiment', 'slurm', '--config', tiny, '--out', viaSlurm, '--submit', '--wait'], { env: slurmEnv, encoding: 'utf8' });
  expect(s.stderr + s.stdout).toMatch(/4 cells finished, 0 failed, 0 missing/);
  expect(s.status).toBe(0);
  for (let k = 0; k < 4; k++) expect(fs.readFileSync(path.join(viaSlurm, 'slurm', 'logs', `cell-${k}.out`), 'utf8')).toMatch(new RegExp(`\\[cell ${k}\\] .*test accuracy`));

  const here = path.join(work, 'local-run');
  const r = spawnSync(process.execPath, [cli, 'experiment', 'run', '--config', tiny, '--out', here, '--quiet'], { env, encoding: 'utf8' });
  expect(r.status).toBe(0);

  const a = deterministic(viaSlurm);
  const b = deterministic(here);
  expect(a.csv).toHaveLength(5);
  expect(a.md).toHaveLength(3); // header and one row per model
  expect(a).toEqual(b);

  // `down` stops exactly the daemons `up` started.
  execFileSync('bash', [cluster, 'down'], { env });
  for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  expect(fs.existsSync(env.SQSNN_SLURM_DIR)).toBe(false);
}, 600_000);
