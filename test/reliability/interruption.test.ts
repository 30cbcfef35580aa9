/**
 * Interruption: `strata compose` (which builds first) of the reliability
 * fixture is killed with SIGINT and with SIGKILL at points spread over the
 * whole pipeline (config, each build job, repository publishing, each compose
 * step), each time started again on what the killed run left. After every
 * kill, whatever sits under a final name (RPMs in out/repo, image artifacts,
 * cache entries) must be byte-identical to an uninterrupted run's or verify
 * against its manifest: a killed run may leave scratch, never a half-written
 * artifact that looks finished. The last run of each chain must succeed with
 * exactly the uninterrupted run's bytes and leave no scratch behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARCH, IMAGE, checkCache, copyProject, diffMaps, outputHashes, processesMentioning, removeProject, scratchLeft, sleep, spawnStrata, strata } from './helpers.js';

const COMPOSE = ['compose', IMAGE, '--arch', ARCH];

/** Where to kill: after the first stderr line containing `after` (or the start) plus `delayMs`. */
interface KillPoint {
  name: string;
  after: string | null;
  delayMs: number;
}

const POINTS: KillPoint[] = [
  { name: 'loading and evaluating', after: null, delayMs: 600 },
  { name: 'inside rel-lib\'s rpmbuild', after: 'building for image', delayMs: 1200 },
  { name: 'inside rel-app\'s rpmbuild', after: 'rel-lib/x86_64', delayMs: 400 },
  { name: 'publishing the repository', after: 'rel-app/x86_64', delayMs: 0 },
  { name: 'installing packages', after: 'install_packages', delayMs: 250 },
  { name: 'making the filesystem', after: 'make_filesystem', delayMs: 20 },
  { name: 'making the verity tree', after: 'make_verity', delayMs: 10 },
  { name: 'making the disk', after: 'make_disk', delayMs: 10 },
  { name: 'writing the manifest', after: 'write_sbom', delayMs: 0 },
];

let reference: Map<string, string> | undefined;
const survived: Record<string, number> = {};
const litterAfter: Record<string, string[]> = {};

test('an uninterrupted compose gives the reference bytes', { timeout: 240_000 }, async () => {
  const project = await copyProject('ref');
  try {
    const result = await strata(project, COMPOSE);
    assert.equal(result.exitCode, 0, result.stderr);
    reference = await outputHashes(project);
    assert.ok([...reference.keys()].filter((k) => k.endsWith('.rpm')).length >= 3, [...reference.keys()].join(', '));
    assert.ok(reference.has(`images/${IMAGE}/${ARCH}/root.erofs`));
    console.log(`# reference run: ${reference.size} artifacts in ${(result.ms / 1000).toFixed(1)} s`);
  } finally {
    await removeProject(project);
  }
});

/** SIGINT runs strata's own cleanup, so fewer points show it; SIGKILL gets every point. */
const CHAINS = { SIGINT: POINTS.filter((_, i) => [0, 1, 2, 4, 5].includes(i)), SIGKILL: POINTS };

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  const points = CHAINS[signal];
  test(`compose killed with ${signal} at ${points.length} points, restarted each time: same bytes, nothing partial trusted`, { timeout: 400_000 }, async () => {
    assert.ok(reference, 'the reference run must have succeeded');
    const project = await copyProject(signal.toLowerCase());
    let kills = 0;
    const notes: string[] = [];
    try {
      for (const point of points) {
        const run = spawnStrata(project, COMPOSE);
        let fired = false;
        const fire = (): void => {
          if (fired) return;
          fired = true;
          setTimeout(() => run.child.kill(signal), point.delayMs);
        };
        if (point.after === null) fire();
        const watcher = setInterval(() => {
          if (point.after !== null && run.stderr().includes(point.after)) fire();
        }, 5);
        let hang: NodeJS.Timeout | undefined;
        const exit = await Promise.race([run.exited, new Promise<null>((resolve) => (hang = setTimeout(() => resolve(null), 180_000)))]);
        clearTimeout(hang);
        clearInterval(watcher);
        if (!exit) run.child.kill('SIGKILL');
        assert.ok(exit, `run for kill point '${point.name}' hung\n${run.stderr()}`);
        // Before strata installs its handler (while node itself starts), SIGINT's default action ends it: also a kill.
        const killed = signal === 'SIGKILL' ? exit.signal === 'SIGKILL' : exit.code === 130 || exit.signal === 'SIGINT';
        if (!killed) {
          // The run got past the point before the signal landed; it must then have succeeded.
          assert.equal(exit.code, 0, `kill point '${point.name}': unexpected exit ${exit.code}/${exit.signal}\n${run.stderr()}`);
          notes.push(`${point.name}: finished before the signal`);
        } else {
          kills++;
          if (signal === 'SIGINT' && exit.code === 130) {
            assert.match(run.stderr(), /interrupted/, `SIGINT must be reported\n${run.stderr()}`);
          }
        }
        // Helpers of a killed run that outlive it (SIGKILL gives strata no chance to stop them).
        await sleep(signal === 'SIGKILL' ? 1500 : 300);
        const survivors = await processesMentioning(project);
        if (signal === 'SIGINT') {
          assert.deepEqual(survivors.map((p) => p.command), [], `after SIGINT at '${point.name}' nothing of the run may keep running`);
        } else if (survivors.length > 0) {
          notes.push(`${point.name}: ${survivors.length} process(es) outlived the killed strata: ${survivors.map((p) => p.command.slice(0, 80)).join(' | ')}`);
          for (const p of survivors) {
            try {
              process.kill(p.pid, 'SIGKILL');
            } catch {
              // already gone
            }
          }
          await sleep(300);
        }
        // Whatever has a final name must be complete: identical to the reference, or a verifying cache entry.
        const outputs = await outputHashes(project);
        for (const [path, hash] of outputs) {
          assert.equal(hash, reference.get(path), `after ${signal} at '${point.name}': ${path} is under its final name but differs from the uninterrupted run`);
        }
        const cache = await checkCache(project);
        assert.deepEqual(cache.bad, [], `after ${signal} at '${point.name}': cache entries that do not verify`);
      }
      const final = await strata(project, COMPOSE);
      assert.equal(final.exitCode, 0, `the run after the kills must succeed\n${final.stderr}`);
      assert.deepEqual(diffMaps(reference, await outputHashes(project)), [], 'the final outputs must be the uninterrupted run\'s bytes');
      const cache = await checkCache(project);
      assert.deepEqual(cache.bad, []);
      assert.equal(cache.good.length, 2, `two verifying cache entries (rel-lib, rel-app): ${cache.good.join(', ')}`);
      const verify = await strata(project, ['verify', IMAGE, '--arch', ARCH]);
      assert.equal(verify.exitCode, 0, `strata verify after the kills\n${verify.stdout}\n${verify.stderr}`);
      survived[signal] = kills;
      console.log(`# ${signal}: survived ${kills} kills of ${points.length} points${notes.length ? `\n#   ${notes.join('\n#   ')}` : ''}`);
      assert.ok(kills >= points.length - 2, `most points must really be interrupted (${kills} of ${points.length}): ${notes.join('; ')}`);
      const litter = [...(await scratchLeft(`${project}/out`)).map((p) => `out/${p}`), ...(await scratchLeft(`${project}/.strata-cache`)).map((p) => `.strata-cache/${p}`)];
      litterAfter[signal] = litter;
      if (litter.length > 0) console.log(`# ${signal}: scratch left after the final successful run: ${litter.join(', ')}`);
    } finally {
      await removeProject(project);
    }
  });
}

test('kills survived (figure for docs/reliability.md)', () => {
  const total = (survived.SIGINT ?? 0) + (survived.SIGKILL ?? 0);
  console.log(`# kills survived: ${total} (SIGINT ${survived.SIGINT ?? 0}, SIGKILL ${survived.SIGKILL ?? 0})`);
  assert.ok(total > 0);
});

test(
  'after Ctrl-C (SIGINT) nothing of the interrupted run is left: no staging folder of the image',
  () => {
    assert.deepEqual(litterAfter.SIGINT ?? [], []);
  },
);

test(
  'a successful run after SIGKILLed ones removes the scratch they left',
  () => {
    assert.deepEqual(litterAfter.SIGKILL ?? [], []);
  },
);
