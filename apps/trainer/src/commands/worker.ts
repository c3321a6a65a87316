import { runWorker, type WorkerWelcome } from '@scriptorium/dataparallel';
import { ModelOptionError } from '@scriptorium/models';
import { BACKEND_NAMES, initBackend } from '@scriptorium/runtime';
import { UsageError } from '../cli/errors.js';
import { flagValue, type CommandSpec, type ParsedFlags } from '../cli/flags.js';
import { IMAGE_CAP_FLAG } from '../cli/image-cap.js';
import { createReplica, jobDifferences, readJob, type Replica, type TrainJob } from '../job.js';
import { HEARTBEAT_MISSES, joinTimeoutMs } from '../train/engine.js';
import { readCurveKeys } from './keys-file.js';

/**
 * How long a worker tries to rejoin a coordinator it lost before it exits: a restarted coordinator is back within
 * seconds, and a vanished one should not keep a remote machine's worker waiting for the 5-minute join timeout.
 */
const COORDINATOR_TIMEOUT_MS = 60_000;

export const workerCommand: CommandSpec = {
  name: 'worker',
  summary: 'Join a training run: compute gradients for the shards a coordinator sends until it says goodbye.',
  synopsis: '--connect tcp://HOST:PORT [--job RUN/job.json] [--curve-keys FILE --server-key KEY]',
  flags: [
    { name: 'connect', type: 'string', metavar: 'ENDPOINT', help: "the coordinator's endpoint" },
    {
      name: 'job',
      type: 'string',
      metavar: 'FILE',
      help: "the run's job.json (model, alphabet, data); default: the job the coordinator sends when this worker joins",
    },
    {
      name: 'data-root',
      type: 'string',
      metavar: 'DIR',
      help: "open only data files (manifests, images, PAGE XML, IAM) that resolve, symlinks followed, inside DIR: the coordinator chooses the data spec (default: the working directory; local workers of `train --workers` get '/')",
    },
    IMAGE_CAP_FLAG,
    {
      name: 'cache-mb',
      type: 'int',
      min: 0,
      metavar: 'N',
      help: "MiB of decoded training lines to keep in this process (default: the coordinator's --cache-mb)",
    },
    { name: 'curve-keys', type: 'string', metavar: 'FILE', help: "this worker's key file (from `scriptorium keys`)" },
    { name: 'server-key', type: 'string', metavar: 'KEY', help: "the coordinator's public key (with --curve-keys)" },
    {
      name: 'coordinator-timeout',
      type: 'duration',
      default: COORDINATOR_TIMEOUT_MS,
      help: `give up when a lost coordinator (${HEARTBEAT_MISSES} heartbeats unanswered: a minute at its default 1 s period) has not come back within this long (default 1m)`,
    },
    { name: 'backend', type: 'string', choices: BACKEND_NAMES, default: 'auto', help: 'tfjs backend' },
    { name: 'quiet', type: 'boolean', default: false, help: 'only warnings and errors' },
  ],
};

export async function runWorkerCommand(flags: ParsedFlags): Promise<void> {
  const str = (name: string) => flagValue(flags, name, 'string');
  const endpoint = str('connect');
  if (!endpoint) throw new UsageError('worker: --connect ENDPOINT is required');
  if (!/^(tcp|ipc|inproc):\/\//.test(endpoint))
    throw new UsageError(`worker: --connect '${endpoint}' is not a ZeroMQ endpoint (expected tcp://HOST:PORT)`);
  const curveKeys = str('curve-keys'),
    serverKey = str('server-key');
  if (curveKeys && !serverKey)
    throw new UsageError("worker: --curve-keys needs --server-key (the coordinator's public key)");
  const quiet = flagValue(flags, 'quiet', 'boolean') ?? false;
  await initBackend({ backend: str('backend'), log: quiet ? null : undefined });
  const onSkip = (s: { index: number; id: string; message: string }) =>
    console.error(`[worker ${process.pid}] skipped line ${s.index} ('${s.id}'): ${s.message}`);
  // With --job the replica is built before joining (a bad file fails at once); otherwise from the job in WELCOME.
  // skipBad and cacheMb are not part of what is trained (a resume may change them): the coordinator's skipBad
  // applies, and --cache-mb, when given, overrides its cacheMb (memory is this machine's business).
  const cacheMb = flagValue(flags, 'cache-mb', 'number');
  const local = (job: TrainJob): TrainJob => (cacheMb !== undefined ? { ...job, cacheMb } : job);
  const dataRoot = str('data-root') ?? process.cwd();
  const jobFile = str('job');
  const fileJob = jobFile ? local(await readJob(jobFile)) : undefined;
  // A model option this version does not know (a job from a newer version) is refused with where the job came from.
  const build = async (job: TrainJob, source: string): Promise<Replica> => {
    try {
      return await createReplica(job, { onSkip, dataRoot });
    } catch (err) {
      if (err instanceof ModelOptionError) throw new UsageError(`${source}: ${err.message}`, false);
      throw err;
    }
  };
  let replica: Replica | undefined = fileJob ? await build(fileJob, `--job ${jobFile}`) : undefined;
  let replicaJob = JSON.stringify(fileJob);
  const setup = async (welcome: WorkerWelcome) => {
    const sent = (welcome.config as { job?: TrainJob } | undefined)?.job;
    if (!sent) {
      if (!replica)
        throw new UsageError('the coordinator sent no job when this worker joined: pass --job RUN/job.json', false);
    } else {
      const job = local(sent);
      if (fileJob) {
        const differs = jobDifferences(job, fileJob);
        if (differs.length > 0) {
          throw new UsageError(
            `--job ${jobFile} is not the coordinator's job (${differs.join(', ')} differ); leave --job out to use the coordinator's`,
            false,
          );
        }
      }
      if (JSON.stringify(job) !== replicaJob) {
        // A first join, a rejoin to another run, or --job with another skipBad/cacheMb: (re)build from this job.
        replica?.model.model.dispose();
        replica = await build(job, "the coordinator's job");
        replicaJob = JSON.stringify(job);
      }
    }
    if (replica!.layout.size !== welcome.layout.size) {
      throw new UsageError(
        `the coordinator's model has ${welcome.layout.size} parameters, this worker's ${replica!.layout.size}`,
        false,
      );
    }
  };
  // Launched by a local coordinator: Ctrl-C reaches the whole process group; the coordinator decides.
  if (process.connected) process.on('SIGINT', () => {});
  const keys = curveKeys ? await readCurveKeys(curveKeys) : undefined;
  const log = (level: string, msg: string) => {
    if (level === 'warn' || level === 'error' || (!quiet && level === 'info'))
      console.error(`[worker ${process.pid}] ${msg}`);
  };
  const exit = await runWorker({
    endpoint,
    onWelcome: setup,
    computeGradients: async (params, shard) => {
      if (!replica) throw new Error('no replica: the worker got a STEP before its job');
      const next = shard.next && lineIndices(shard.next);
      const r = await replica.computeGradients(params, lineIndices(shard.items), shard.step, next);
      return { grads: r.grads, lossSum: r.lossSum, count: r.count };
    },
    curve: keys && serverKey ? { serverKey, ...keys } : undefined,
    connectTimeoutMs: joinTimeoutMs(),
    rejoinTimeoutMs: flagValue(flags, 'coordinator-timeout', 'number') ?? COORDINATOR_TIMEOUT_MS,
    heartbeatMisses: HEARTBEAT_MISSES, // the coordinator may be busy validating for several seconds
    log,
  });
  if (!quiet) console.error(`[worker ${process.pid}] done: ${exit.reason} (${exit.shards} shards)`);
}

const isLineIndex = (item: unknown): item is number => typeof item === 'number' && Number.isInteger(item) && item >= 0;

/** A shard's items as line indices, which is all this trainer's coordinator sends. */
function lineIndices(items: readonly unknown[]): readonly number[] {
  if (items.every(isLineIndex)) return items;
  const bad = items.find((item) => !isLineIndex(item));
  throw new Error(`STEP: item ${JSON.stringify(bad)} is not a line index (an integer >= 0)`);
}
