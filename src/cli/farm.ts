import type { Argv } from 'yargs';
import { defineCommand, type GlobalOptions } from './command.js';
import { loadProject } from '../config/load.js';
import { usageError } from '../util/errors.js';
import { connectFarm, describeConnection, farmConnectionSettings } from '../farm/connection.js';
import { connectionInputFromArgs, NAMESPACE_ENV, natsOptions, type NatsArgs } from '../farm/cli-options.js';
import type { DistroModel } from '../config/model.js';
import { DEFAULT_LAYOUT, openFarm } from '../farm/farm.js';
import { farmStatus, formatFarmStatus } from '../farm/status.js';
import { farmNames, farmNamespace } from '../farm/subjects.js';

interface FarmArgs extends NatsArgs {
  action: string;
  namespace?: string;
}

export default defineCommand<FarmArgs>({
  command: 'farm <action>',
  describe: 'the NATS JetStream build farm: `farm status` shows workers, slots, queues and throughput',
  examples: [
    ['$0 farm status --nats-url nats://farm:4222', "the farm of the project in this folder (its distro's namespace)"],
    ['$0 farm status --namespace strata-example_1-0 --json', 'any farm on the server, as JSON'],
  ],
  builder: (yargs: Argv<GlobalOptions>) =>
    natsOptions(yargs)
      .positional('action', { type: 'string', choices: ['status'], describe: 'what to do' })
      .option('namespace', { type: 'string', requiresArg: true, describe: `farm namespace (default: from the project's [distro]; env ${NAMESPACE_ENV})` }) as unknown as Argv<FarmArgs>,
  run: async (args, context) => {
    if (args.action !== 'status') throw usageError(`unknown farm action '${args.action}'`, 'the only action is: status');
    const explicitNamespace = args.namespace ?? process.env[NAMESPACE_ENV];
    // The project supplies what the flags leave out: its namespace and its [build.farm] connection.
    const project = await projectHere(context.cwd, context.configPath, explicitNamespace === undefined);
    const namespace = explicitNamespace ?? farmNamespace(project!.distro.name, project!.distro.version);
    const connection = farmConnectionSettings(connectionInputFromArgs(args, project?.build.farm));
    const nc = await connectFarm(connection, 'strata farm status');
    try {
      const farm = await openFarm(nc, farmNames(namespace), DEFAULT_LAYOUT, false);
      const status = await farmStatus(farm);
      return { json: status, text: formatFarmStatus(status, describeConnection(connection)) };
    } finally {
      await nc.close();
    }
  },
});

/**
 * The project in this folder; null when there is none and it is not needed.
 * Needed: no namespace was given, or a config file was named explicitly (its
 * errors must not go unseen).
 */
async function projectHere(cwd: string, configPath: string | undefined, needed: boolean): Promise<DistroModel | null> {
  try {
    return await loadProject({ cwd, configPath });
  } catch (error) {
    if (configPath !== undefined) throw error;
    if (!needed) return null;
    throw usageError(`no farm namespace given and no project found here (${(error as Error).message})`, `pass --namespace NAME_VERSION or run inside the project`);
  }
}
