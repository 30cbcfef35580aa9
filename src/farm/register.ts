/**
 * Making `nats` an executor `strata build` can pick. The executor registry's
 * factories only get the cache folder and a logger, so the farm's settings (the
 * server, credentials, the distro's namespace) are bound here, once, by the
 * command that knows them.
 */
import type { DistroModel } from '../config/model.js';
import { registerExecutor } from '../build/executors/index.js';
import { connectFarm, farmConnectionSettings, type FarmConnectionInput } from './connection.js';
import { FarmCoordinator } from './coordinator.js';
import { DEFAULT_LAYOUT, liveWorkers, openFarm } from './farm.js';
import { farmWindow } from './gate.js';
import { farmNames, farmNamespace } from './subjects.js';

export const FARM_EXECUTOR = 'nats';

export interface FarmExecutorInput extends FarmConnectionInput {
  /** Jobs kept queued beyond the live worker slots (see QueueGate). */
  queueAhead?: number;
  /** Stream replicas if this build is the first to create the farm (see FarmLayout). */
  replicas?: number;
}

export interface RegisteredFarm {
  namespace: string;
  /**
   * Jobs the scheduler should keep in flight: the farm's window (the live
   * worker slots plus a job queued behind each), so that the scheduler, not the
   * server's FIFO, decides which job a worker gets next.
   */
  parallelism(): Promise<number>;
}

/** Registers the `nats` executor for this distro; the connection settings are checked now, the server is contacted on first use. */
export function registerFarmExecutor(model: Pick<DistroModel, 'distro'>, input: FarmExecutorInput): RegisteredFarm {
  const connection = farmConnectionSettings(input);
  const namespace = farmNamespace(model.distro.name, model.distro.version);
  const layout = { ...DEFAULT_LAYOUT, replicas: input.replicas ?? DEFAULT_LAYOUT.replicas };
  registerExecutor(FARM_EXECUTOR, ({ log }) => new FarmCoordinator({ connection, namespace, log, queueAhead: input.queueAhead, layout }));
  return {
    namespace,
    parallelism: async () => {
      const nc = await connectFarm(connection, 'strata build');
      try {
        const workers = await liveWorkers(await openFarm(nc, farmNames(namespace), layout));
        const slots = workers.filter((w) => !w.draining).reduce((sum, w) => sum + w.slots, 0);
        return farmWindow(slots, input.queueAhead);
      } finally {
        await nc.close();
      }
    },
  };
}
