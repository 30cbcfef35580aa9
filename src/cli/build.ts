import { relative } from 'node:path';
import { defineCommand } from './command.js';
import { loadModel } from './project.js';
import { connectionInputFromArgs, natsOptions, type NatsArgs } from '../farm/cli-options.js';
import { FARM_EXECUTOR, registerFarmExecutor } from '../farm/register.js';
import { ARCHES, type Arch } from '../config/model.js';
import { BuildFailure, HOST_ARCH, buildDistro, type BuildSummary, type JobSummary } from '../build/index.js';
import { errorToJson, usageError } from '../util/errors.js';

interface BuildArgs extends NatsArgs {
  components: string[];
  arch?: string | string[];
  allArches: boolean;
  jobs?: number;
  keepGoing: boolean;
  explain: boolean;
  dryRun: boolean;
  executor?: string;
}

function jobLine(job: JobSummary, explain: boolean): string[] {
  const head = `  ${job.status.padEnd(8)} ${job.job.padEnd(32)} ${job.status === 'built' || job.status === 'failed' ? `${job.seconds.toFixed(1)} s` : ''}`.trimEnd();
  const lines = [head];
  if (job.reason) lines.push(`           ${job.reason}`);
  if (job.blockedBy) lines.push(`           needs ${job.blockedBy}, which failed`);
  if (explain) for (const reason of job.explain ?? []) lines.push(`           ${job.cacheHit ? '' : 'why: '}${reason}`);
  return lines;
}

function summaryText(summary: BuildSummary, root: string, explain: boolean, verbose: boolean): string {
  const c = summary.counts;
  const lines: string[] = [];
  const shown = summary.jobs.filter((job) => explain || verbose || job.status !== 'cached');
  if (shown.length > 0) lines.push('jobs:', ...shown.flatMap((job) => jobLine(job, explain)));
  for (const skip of summary.skipped) lines.push(`  skipped  ${skip.component}/${skip.arch}: ${skip.reason}`);
  lines.push(
    `${c.total} job(s): ${c.planned ? `${c.planned} to build, ` : ''}${c.built} built, ${c.cached} cached${c.failed ? `, ${c.failed} failed` : ''}${c.blocked ? `, ${c.blocked} blocked` : ''}${c.skipped ? `, ${c.skipped} not started` : ''} in ${summary.seconds.toFixed(1)} s (${summary.executor})`,
  );
  for (const [arch, dir] of Object.entries(summary.repos)) lines.push(`repository ${arch}: ${relative(root, dir!) || '.'}`);
  return lines.join('\n');
}

function selectedArches(args: BuildArgs, distroArches: Arch[]): Arch[] {
  if (args.allArches) return distroArches;
  const wanted = [args.arch ?? []].flat().map(String);
  if (wanted.length === 0) return [distroArches.includes(HOST_ARCH) ? HOST_ARCH : distroArches[0]!];
  for (const arch of wanted) {
    if (!distroArches.includes(arch as Arch)) throw usageError(`the distro is not built for ${arch}`, `its arches: ${distroArches.join(', ')}`);
  }
  return wanted as Arch[];
}

export default defineCommand<BuildArgs>({
  command: 'build [components..]',
  describe: 'build RPMs in sandboxes, reusing cached results, into out/repo/<arch>/',
  examples: [
    ['strata build', 'build every component for the host arch (x86_64)'],
    ['strata build --arch aarch64', 'cross-build every component for aarch64'],
    ['strata build --all-arches -j 8', 'build for every distro arch, 8 jobs at a time'],
    ['strata build greet --explain', 'build greet and what it needs; say why each job is (not) a cache hit'],
    ['strata build --keep-going --json', 'build all that does not depend on a failure; JSON summary on stdout'],
    ['strata build --all-arches --explain --dry-run', 'what would rebuild, and why, without building'],
  ],
  builder: (yargs) =>
    natsOptions(yargs)
      .positional('components', { type: 'string', array: true, default: [] as string[], describe: 'components to build, with what they need (default: all)' })
      // Not `array`: that would swallow the component names after it; repeating the flag collects.
      .option('arch', { type: 'string', choices: [...ARCHES], describe: 'target arch (repeat for several; default: the host arch)' })
      .option('all-arches', { type: 'boolean', default: false, describe: 'build for every arch of the distro' })
      .option('jobs', { alias: 'j', type: 'number', requiresArg: true, describe: 'parallel jobs (default: [build] jobs, else one per core)' })
      .option('keep-going', { alias: 'k', type: 'boolean', default: false, describe: 'after a failure, still build everything that does not depend on it' })
      .option('explain', { type: 'boolean', default: false, describe: 'say for each job whether it is a cache hit and, if not, which input changed' })
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'decide hits and misses (with --explain: why) without building or publishing' })
      .option('executor', {
        type: 'string',
        requiresArg: true,
        describe: `where jobs run: bubblewrap or podman (a local sandbox), or ${FARM_EXECUTOR} (the build farm); default: [build] executor and sandbox`,
      }) as never,
  run: async (args, context) => {
    if (args.jobs !== undefined && (!Number.isInteger(args.jobs) || args.jobs < 1)) throw usageError(`--jobs must be a positive whole number, not ${args.jobs}`);
    const model = await loadModel(context);
    const arches = selectedArches(args, model.distro.arches);
    const explain = args.explain;
    const executor = args.executor ?? (model.build.executor === 'nats' ? FARM_EXECUTOR : model.build.sandbox);
    // The farm's window (live worker slots, plus a job queued behind each) is what keeps its workers busy.
    const farm = executor === FARM_EXECUTOR ? registerFarmExecutor(model, { ...connectionInputFromArgs(args, model.build.farm), queueAhead: model.build.farm.queueAhead, replicas: model.build.farm.replicas }) : null;
    try {
      const summary = await buildDistro(model, {
        arches,
        components: (args.components ?? []).map(String),
        jobs: args.jobs ?? (farm ? await farm.parallelism() : undefined),
        keepGoing: args.keepGoing,
        explain,
        dryRun: args.dryRun,
        executor,
        log: context.log,
        signal: context.signal,
      });
      return { json: { ok: true, ...summary }, text: summaryText(summary, model.root, explain, context.log.level === 'verbose') };
    } catch (error) {
      if (!(error instanceof BuildFailure)) throw error;
      return {
        exitCode: 1,
        json: { ok: false, ...error.summary, errors: error.errors.map(errorToJson) },
        text: summaryText(error.summary, model.root, explain, context.log.level === 'verbose'),
        errors: error.errors,
      };
    }
  },
});
