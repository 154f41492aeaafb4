/**
 * The `stinger` command: one entry for running Stinger locally, running its services, and testing it.
 * Contract: stdout carries command output only (one line per fact, or JSON lines with -o json);
 * logs go to stderr; a failure prints one line `stinger: <what is wrong>` and exits non-zero.
 */
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '@stinger/config';
import { resolveKafkaDistribution } from '@stinger/local-broker';
import { createLogger } from '@stinger/log';
import { EVENT_KIND_SYMBOLS } from '@stinger/events';
import { buildEtcd, buildKubeApiserver } from '@stinger/dev-cluster';
import { devClusterDown, devClusterUp } from './commands/dev-cluster.ts';
import { alerts } from './commands/alerts.ts';
import { down } from './commands/down.ts';
import { events } from './commands/events.ts';
import { keysGenerate, keysList, keysRetire, keysRotate, keysSecrets } from './commands/keys.ts';
import { policyApply, policyDelete, policyList } from './commands/policy.ts';
import { checkServiceRunnable, runServiceInForeground, serviceEnvironment } from './commands/service.ts';
import { status } from './commands/status.ts';
import { runTests } from './commands/test.ts';
import { buildBpf, up } from './commands/up.ts';
import { resolveBrokers } from './brokers.ts';
import { CliError } from './errors.ts';
import { isServiceName, SERVICE_NAMES } from './workspace.ts';

const USAGE = `usage: stinger <command> [options]

  up [--detach]        start the local pipeline: a Kafka broker (unless KAFKA_BROKERS is set),
                       the topics and every service; prints KAFKA_BROKERS=<host:port>
  down                 stop what \`stinger up --detach\` started
  status               broker, topics and running services
  policy apply [--defaults] FILE... | delete NAME... | list
                       in a cluster (KUBECONFIG): TracingPolicy custom resources, published by the
                       policy-controller; else straight to stinger.policies, signed. list: each agent's status
                       (--defaults: the default rule pack of k8s/policies, monitor mode)
  keys generate | rotate | retire ID | list | secrets [--namespace NS]
                       the Ed25519 keys that sign policies and commands (STINGER_KEYS_DIR); rotate keeps
                       the old key trusted until retire
  events [--raw] [-o json|compact] [--since 10m] [--kind K]... [--binary SUBSTR] [--limit N]
                       tail stinger.events (--raw: stinger.events.raw)
  alerts [-o json|compact] [--since 10m] [--limit N]
                       tail stinger.alerts, each alert with its enforcement outcome
  dev-cluster up|down  a real Kubernetes API server (etcd + kube-apiserver) on 127.0.0.1; prints KUBECONFIG=...
  test [FILES...]      every check and test of the repository (--skip-static: tests only)
  setup                fetch and build the pinned tools into the cache: Kafka jars, kube-apiserver, etcd
  <service>            run one service in the foreground: ${SERVICE_NAMES.join(', ')}

environment: KAFKA_BROKERS, STINGER_TOPIC_PREFIX, STINGER_LOG_LEVEL, STINGER_HOME, STINGER_CACHE_DIR, STINGER_KEYS_DIR`;

/** `-o`: json or compact. */
function outputFormat(value: string): 'json' | 'compact' {
  if (value !== 'json' && value !== 'compact') throw new CliError(`-o "${value}" is not json or compact`, 2);
  return value;
}

/** `--limit N`: a positive integer, or no limit. */
function limitOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const limit = Number(value);
  if (!(Number.isInteger(limit) && limit > 0)) throw new CliError(`--limit "${value}" is not a positive integer`, 2);
  return limit;
}

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  // Command output is the point here: library logs show from `error` unless STINGER_LOG_LEVEL asks for more.
  const logger = createLogger({ name: 'stinger', level: config.logLevel === 'info' ? 'error' : config.logLevel });
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return command === undefined ? 1 : 0;
    case 'up': {
      const { values } = parseArgs({ args: [...rest], options: { detach: { type: 'boolean', short: 'd', default: false } } });
      return up({ config, logger, detach: values.detach, out });
    }
    case 'down':
      parseArgs({ args: [...rest], options: {} });
      return down(config, out);
    case 'status':
      parseArgs({ args: [...rest], options: {} });
      return status(config, logger, out);
    case 'events': {
      const { values } = parseArgs({
        args: [...rest],
        options: {
          raw: { type: 'boolean', default: false },
          output: { type: 'string', short: 'o', default: 'compact' },
          since: { type: 'string' },
          kind: { type: 'string', multiple: true, default: [] },
          binary: { type: 'string' },
          limit: { type: 'string' },
        },
      });
      const unknownKinds = values.kind.filter((k) => !(EVENT_KIND_SYMBOLS as readonly string[]).includes(k));
      if (unknownKinds.length > 0) throw new CliError(`--kind ${unknownKinds.join(', ')}: not one of ${EVENT_KIND_SYMBOLS.join(', ')}`, 2);
      const output = outputFormat(values.output);
      return events({ config, logger, raw: values.raw, output, since: values.since, kinds: values.kind, binary: values.binary, out, limit: limitOption(values.limit) });
    }
    case 'alerts': {
      const { values } = parseArgs({
        args: [...rest],
        options: { output: { type: 'string', short: 'o', default: 'compact' }, since: { type: 'string' }, limit: { type: 'string' } },
      });
      return alerts({ config, logger, output: outputFormat(values.output), since: values.since, out, limit: limitOption(values.limit) });
    }
    case 'policy': {
      const [verb, ...args] = rest;
      const { positionals, values } = parseArgs({ args, allowPositionals: true, options: verb === 'apply' ? { defaults: { type: 'boolean', default: false } } : {} });
      const options = { config, logger, out };
      switch (verb) {
        case 'apply':
          return policyApply(options, positionals, { defaults: values.defaults === true });
        case 'delete':
          return policyDelete(options, positionals);
        case 'list':
          return policyList(options);
        case undefined:
        default:
          throw new CliError(`policy ${verb ?? ''}: expected apply, delete or list`, 2);
      }
    }
    case 'keys': {
      const [verb, ...args] = rest;
      const { positionals, values } = parseArgs({ args, allowPositionals: verb === 'retire', options: { namespace: { type: 'string', default: 'stinger' } } });
      const options = { config, out };
      switch (verb) {
        case 'generate':
          return keysGenerate(options);
        case 'rotate':
          return keysRotate(options);
        case 'retire': {
          if (positionals.length !== 1) throw new CliError('keys retire needs one key id (`stinger keys list` shows them)', 2);
          return keysRetire(options, positionals[0] as string);
        }
        case 'list':
          return keysList(options);
        case 'secrets':
          return keysSecrets(options, values.namespace);
        case undefined:
        default:
          throw new CliError(`keys ${verb ?? ''}: expected generate, rotate, retire, list or secrets`, 2);
      }
    }
    case 'dev-cluster': {
      const [verb, ...args] = rest;
      parseArgs({ args, options: {} });
      switch (verb) {
        case 'up':
          return devClusterUp(config, logger, out);
        case 'down':
          return devClusterDown(config, out);
        case undefined:
        default:
          throw new CliError(`dev-cluster ${verb ?? ''}: expected up or down`, 2);
      }
    }
    case 'test': {
      const { values, positionals } = parseArgs({
        args: [...rest],
        allowPositionals: true,
        options: { 'skip-static': { type: 'boolean', default: false } },
      });
      return runTests({ logger, patterns: positionals, skipStatic: values['skip-static'] });
    }
    case 'setup': {
      const distribution = await resolveKafkaDistribution({ cacheDir: config.cacheDir, logger });
      out(`Apache Kafka ${distribution.version}: ${distribution.libsDir}`);
      // The first build of kube-apiserver takes minutes (measured ≈5 min on 2 cores); later runs use the cache.
      for (const build of [buildKubeApiserver, buildEtcd]) {
        const binary = await build({ cacheDir: config.cacheDir, logger });
        out(`${binary.path} (${binary.version}${binary.built ? `, built in ${(binary.buildMs / 1000).toFixed(0)} s` : ', cached'})`);
      }
      return 0;
    }
    default: {
      if (!isServiceName(command)) throw new CliError(`unknown command "${command}"\n${USAGE}`, 2);
      parseArgs({ args: [...rest], options: {} });
      checkServiceRunnable(command);
      if (command === 'agent') buildBpf(logger);
      const brokers = (await resolveBrokers(config)).join(',');
      return runServiceInForeground(command, serviceEnvironment(config, brokers));
    }
  }
}

// A reader that went away (`stinger events | head`) ends the command quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  if (error instanceof CliError || error instanceof ConfigError) {
    process.stderr.write(`stinger: ${error.message}\n`);
    process.exitCode = error instanceof CliError ? error.exitCode : 2;
  } else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`stinger: ${error.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`stinger: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
