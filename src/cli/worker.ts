import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { defineCommand } from './command.js';
import { ARCHES, type Arch } from '../config/model.js';
import { usageError } from '../util/errors.js';
import { WORKER_BACKENDS, defaultWorkerArches, workerRoutes } from '../farm/backends.js';
import { connectionFromArgs, NAMESPACE_ENV, natsOptions } from '../farm/cli-options.js';
import { FarmWorker } from '../farm/worker.js';
import { DEFAULT_LAYOUT } from '../farm/farm.js';
import { farmNames } from '../farm/subjects.js';

export default defineCommand({
  command: 'worker',
  describe: 'serve the NATS JetStream build farm: take jobs, build them in a local sandbox, report back',
  examples: [
    ['$0 worker --nats-url nats://farm:4222 --namespace strata-example_1-0', 'build x86_64 and aarch64 jobs, one at a time'],
    ['$0 worker --nats-url nats://farm:4222 --namespace strata-example_1-0 --arch aarch64 -j 4', 'four aarch64 jobs at once'],
    ['STRATA_NATS_USER=w STRATA_NATS_PASSWORD=… $0 worker --namespace strata-example_1-0 --work-dir /var/lib/strata-worker', 'with credentials from the environment'],
  ],
  builder: (yargs) =>
    natsOptions(yargs)
      .option('namespace', { type: 'string', requiresArg: true, describe: `farm namespace, NAME_VERSION of the distro (env ${NAMESPACE_ENV})` })
      .option('arch', { type: 'string', array: true, choices: ARCHES as Arch[], describe: 'arches to take jobs for (default: what this host can build)' })
      .option('jobs', { alias: 'j', type: 'number', default: 1, describe: 'jobs built at the same time (slots)' })
      .option('sandbox', { type: 'string', choices: Object.keys(WORKER_BACKENDS), default: 'bubblewrap', describe: "local executor ('synthetic' builds nothing: benchmarks only)" })
      .option('work-dir', { type: 'string', requiresArg: true, describe: 'input cache and scratch space (default: ~/.cache/strata-worker)' })
      .option('build-root', { type: 'string', requiresArg: true, describe: 'host build-root identity to serve (default: computed from this host)' })
      .option('ack-wait', { type: 'number', default: 30, describe: 'seconds before a silent worker\'s job goes to another worker' })
      .option('max-deliveries', { type: 'number', default: 4, describe: 'deliveries before a job is given up' })
      .option('grace', { type: 'number', default: 20, describe: 'seconds running jobs may finish after SIGTERM before they are handed back' })
      .option('replicas', { type: 'number', default: 1, describe: 'stream replicas when this worker creates the farm (3 on a cluster)' }),
  run: async (args, context) => {
    const namespace = args.namespace ?? process.env[NAMESPACE_ENV];
    if (!namespace) throw usageError('the worker needs the farm namespace', `pass --namespace NAME_VERSION (as 'strata farm status' in the project prints it) or set ${NAMESPACE_ENV}`);
    farmNames(namespace);
    if (!Number.isInteger(args.jobs) || args.jobs < 1) throw usageError('-j must be a positive whole number');
    if (!(args.ackWait >= 1)) throw usageError('--ack-wait must be at least 1 second');
    if (!Number.isInteger(args.maxDeliveries) || args.maxDeliveries < 1) throw usageError('--max-deliveries must be a positive whole number');
    const connection = connectionFromArgs(args);
    const workDir = resolve(context.cwd, args.workDir ?? join(homedir(), '.cache', 'strata-worker'));
    const cacheDir = join(workDir, 'cache');
    const { routes } = await workerRoutes(cacheDir, args.buildRoot);
    const executor = WORKER_BACKENDS[args.sandbox]!({ cacheDir, log: context.log });

    const stop = new AbortController();
    const handBack = new AbortController();
    const onSignal = (): void => {
      if (stop.signal.aborted) handBack.abort();
      else stop.abort();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    try {
      const worker = new FarmWorker({
        connection,
        namespace,
        arches: args.arch && args.arch.length > 0 ? [...new Set(args.arch)] : defaultWorkerArches(),
        routes,
        slots: args.jobs,
        executor,
        workDir,
        log: context.log,
        policy: { ackWaitMs: args.ackWait * 1000, maxDeliver: args.maxDeliveries },
        layout: { ...DEFAULT_LAYOUT, replicas: args.replicas },
        graceMs: args.grace * 1000,
      });
      const summary = await worker.run(stop.signal, handBack.signal);
      return {
        json: summary,
        text: `worker ${summary.id} stopped: ${summary.completed} built, ${summary.failed} failed, ${summary.rejected} refused, ${summary.handedBack} handed back`,
      };
    } finally {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      await executor.close();
    }
  },
});
