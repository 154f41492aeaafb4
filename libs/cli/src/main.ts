/**
 * The `stinger` command: one entry for running Stinger locally, running its services, and testing it.
 * Contract: stdout carries command output only (one line per fact, or JSON lines with -o json);
 * logs go to stderr; a failure prints one line `stinger: <what is wrong>` and exits non-zero.
 */
import { parseArgs } from 'node:util';
import { loadConfig, ConfigError } from '@stinger/config';
import { createLogger } from '@stinger/log';
import { brokerDown, brokerUp, parseBrokerCount, parseListenAddress } from './commands/broker.ts';
import { devClusterDown, devClusterUp } from './commands/dev-cluster.ts';
import { alerts } from './commands/alerts.ts';
import { down } from './commands/down.ts';
import { events } from './commands/events.ts';
import { imagesBuild, imagesKafka } from './commands/images.ts';
import { exportRecords } from './commands/export.ts';
import { keysGenerate, keysList, keysRetire, keysRotate, keysSecrets } from './commands/keys.ts';
import { policyApply, policyDelete, policyList } from './commands/policy.ts';
import { registryDown, registryUp } from './commands/registry.ts';
import { replay } from './commands/replay.ts';
import { checkServiceRunnable, runServiceInForeground, serviceEnvironment } from './commands/service.ts';
import { status } from './commands/status.ts';
import { runTests } from './commands/test.ts';
import { vmTest } from './commands/vm-test.ts';
import { prepareService, up } from './commands/up.ts';
import { resolveBrokers } from './brokers.ts';
import { commandHelp } from './command-help.ts';
import { CliError } from './errors.ts';
import { ALERT_FILTER_FLAGS, alertFilterOf, EVENT_FILTER_FLAGS, eventFilterOf, limitOption, OUTPUT_FLAGS, outputFormat, RANGE_FLAGS } from './reading-flags.ts';
import { DEFAULT_LOOKBACK, timeRange } from './time-range.ts';
import { setup } from './setup.ts';
import { isServiceName, SERVICE_NAMES, stingerVersion } from './workspace.ts';

const USAGE = `usage: stinger <command> [options]

  up [--detach] [--logs] [--brokers 3]
                       start the local pipeline: a Kafka broker (unless KAFKA_BROKERS is set; --brokers 3:
                       a local three-broker cluster, replication factor 3, min.insync.replicas=2),
                       the topics and every service; prints KAFKA_BROKERS=<host:port>, the console's
                       URL and a status line (--logs: every service's log, readable, as it comes)
  down                 stop what \`stinger up --detach\` started
  broker up [--listen HOST:PORT] [--brokers 3] | down
                       the local Kafka broker alone, detached, with the topics (for services that run
                       elsewhere: a cluster's pods); --listen: also on that address of this machine (pods
                       reach the dev node's 10.244.0.1, not 127.0.0.1); prints KAFKA_BROKERS=<host:port>
  status [-o json]     broker, topics, services here and in the cluster, each agent's health, lag
  policy apply [--defaults] FILE... | delete NAME... | list
                       in a cluster (KUBECONFIG): TracingPolicy custom resources, published by the
                       policy-controller; else straight to stinger.policies, signed. list: each agent's status
                       (--defaults: the default rule pack of k8s/policies, monitor mode)
  keys generate | rotate | retire ID | list | secrets [--namespace NS]
                       the Ed25519 keys that sign policies and commands (STINGER_KEYS_DIR); rotate keeps
                       the old key trusted until retire
  events [--raw] [-o json|compact] [--from T] [--to T] [--follow] [filters] [--limit N]
                       stinger.events (--raw: stinger.events.raw); without --follow the last 10 minutes
                       (or --from/--to) and exit; filters: --kind --namespace --pod --node --binary
  alerts [-o json|compact] [--from T] [--to T] [--follow] [filters] [--limit N]
                       stinger.alerts with each alert's enforcement outcome; filters as events, and
                       --severity --policy
  replay --from T [--to T] [--policy FILE]... [--defaults] [-o json|compact]
                       re-run detection over stored events with these policies (default: the signed
                       policies in force); prints the alerts they would have raised, writes nothing
  export --from T [--to T] [--topic events|events.raw|alerts] [filters]
                       a time range of a topic as JSON lines, for evidence
  registry up | down    a real schema registry (Apicurio Registry, built once with Maven) on 127.0.0.1, detached;
                       prints STINGER_SCHEMA_REGISTRY_URL=<url>: with it set, everything writes the registry's
                       wire format (docs/topics.md)
  dev-cluster up [--with-node] | down
                       a real Kubernetes API server (etcd + kube-apiserver) on 127.0.0.1; prints KUBECONFIG=...;
                       --with-node: also a real node (kubelet, containerd) that runs pods on this machine
  test [FILES...]      every check and test of the repository (--skip-static: tests only); without FILES
                       also the kernel tests in a stock-kernel VM (--no-vm: not)
  vm-test [FILES...]   kernel test files (default: the kernel test list) as root in a qemu VM booted from
                       Debian's stock kernel (STINGER_VM_KERNEL, default linux-image-amd64)
  setup                fetch and build the pinned tools into the cache: Kafka jars, kube-apiserver, etcd, kubectl
  images build [SERVICE...]
                       the container images stinger/<service>:<version>, without a Docker engine, into the
                       cache (an OCI layout) and podman's storage; --node: also into the dev cluster's node
  images kafka         the Apache Kafka image stinger/kafka:<kafka version> (the cached jars, Debian's Java)
                       into the cache and podman's storage: the brokers of the container cluster tests
  <service>            run one service in the foreground: ${SERVICE_NAMES.join(', ')}

stinger <command> --help: that command's options; stinger --version: the version

environment: KAFKA_BROKERS, STINGER_SCHEMA_REGISTRY_URL, STINGER_TOPIC_PREFIX, STINGER_LOG_LEVEL, STINGER_HOME, STINGER_CACHE_DIR, STINGER_KEYS_DIR`;

function out(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  const config = loadConfig();
  // Command output is the point here: library logs show from `error` unless STINGER_LOG_LEVEL asks for more.
  const logger = createLogger({ name: 'stinger', level: config.logLevel === 'info' ? 'error' : config.logLevel });
  if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    out(commandHelp(command) ?? USAGE);
    return 0;
  }
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      out(USAGE);
      return command === undefined ? 1 : 0;
    case '--version':
    case '-V':
    case 'version':
      out(`stinger ${stingerVersion()}`);
      return 0;
    case 'up': {
      const { values } = parseArgs({ args: [...rest], options: { detach: { type: 'boolean', short: 'd', default: false }, logs: { type: 'boolean', default: false }, brokers: { type: 'string' } } });
      return up({ config, logger, detach: values.detach, logs: values.logs, out, ...(values.brokers === undefined ? {} : { brokerCount: parseBrokerCount(values.brokers) }) });
    }
    case 'down':
      parseArgs({ args: [...rest], options: {} });
      return down(config, out);
    case 'status': {
      const { values } = parseArgs({ args: [...rest], options: { output: { type: 'string', short: 'o', default: 'text' } } });
      return status({ config, logger, output: outputFormat(values.output, ['text', 'json']), out });
    }
    case 'events': {
      const { values } = parseArgs({ args: [...rest], options: { raw: { type: 'boolean', default: false }, ...OUTPUT_FLAGS, ...RANGE_FLAGS, ...EVENT_FILTER_FLAGS } });
      const range = timeRange(values, { now: Date.now(), defaultFrom: DEFAULT_LOOKBACK });
      return events({ config, logger, raw: values.raw, output: outputFormat(values.output, ['compact', 'json']), range, filter: eventFilterOf(values), out, limit: limitOption(values.limit) });
    }
    case 'alerts': {
      const { values } = parseArgs({ args: [...rest], options: { ...OUTPUT_FLAGS, ...RANGE_FLAGS, ...ALERT_FILTER_FLAGS } });
      const range = timeRange(values, { now: Date.now(), defaultFrom: DEFAULT_LOOKBACK });
      return alerts({ config, logger, output: outputFormat(values.output, ['compact', 'json']), range, filter: alertFilterOf(values), out, limit: limitOption(values.limit) });
    }
    case 'replay': {
      const { values } = parseArgs({
        args: [...rest],
        // --policy names the policy files here, not a filter.
        options: { ...OUTPUT_FLAGS, from: RANGE_FLAGS.from, to: RANGE_FLAGS.to, defaults: { type: 'boolean', default: false }, ...ALERT_FILTER_FLAGS },
      });
      const range = timeRange(values, { now: Date.now(), defaultFrom: null });
      const output = outputFormat(values.output, ['compact', 'json']);
      return replay({ config, logger, range, policyFiles: values.policy, defaults: values.defaults, output, filter: alertFilterOf({ ...values, policy: [] }), out, limit: limitOption(values.limit) });
    }
    case 'export': {
      const { values } = parseArgs({ args: [...rest], options: { topic: { type: 'string', default: 'events' }, limit: OUTPUT_FLAGS.limit, from: RANGE_FLAGS.from, to: RANGE_FLAGS.to, ...ALERT_FILTER_FLAGS } });
      const range = timeRange(values, { now: Date.now(), defaultFrom: null });
      return exportRecords({ config, logger, topic: values.topic, range, filter: alertFilterOf(values), out, limit: limitOption(values.limit) });
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
      const { positionals, values } = parseArgs({ args, allowPositionals: verb === 'retire', options: { namespace: { type: 'string', default: 'stinger-system' } } });
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
    case 'broker': {
      const [verb, ...args] = rest;
      const { values } = parseArgs({ args, options: verb === 'up' ? { listen: { type: 'string' }, brokers: { type: 'string' } } : {} });
      switch (verb) {
        case 'up':
          return brokerUp({
            config,
            logger,
            out,
            listen: typeof values.listen === 'string' ? parseListenAddress(values.listen) : null,
            ...(typeof values.brokers === 'string' ? { brokerCount: parseBrokerCount(values.brokers) } : {}),
          });
        case 'down':
          return brokerDown({ config, out });
        case undefined:
        default:
          throw new CliError(`broker ${verb ?? ''}: expected up or down`, 2);
      }
    }
    case 'registry': {
      const [verb, ...args] = rest;
      parseArgs({ args, options: {} });
      switch (verb) {
        case 'up':
          return registryUp({ config, logger, out });
        case 'down':
          return registryDown({ config, out });
        case undefined:
        default:
          throw new CliError(`registry ${verb ?? ''}: expected up or down`, 2);
      }
    }
    case 'dev-cluster': {
      const [verb, ...args] = rest;
      const { values } = parseArgs({ args, options: { 'with-node': { type: 'boolean', default: false } } });
      switch (verb) {
        case 'up':
          return devClusterUp({ config, logger, out, withNode: values['with-node'] });
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
        // --no-vm leaves out the VM run of the whole suite (allowNegative).
        options: { 'skip-static': { type: 'boolean', default: false }, vm: { type: 'boolean', default: true } },
        allowNegative: true,
      });
      return runTests({ logger, patterns: positionals, skipStatic: values['skip-static'], vm: positionals.length === 0 && values.vm });
    }
    case 'vm-test': {
      const { values, positionals } = parseArgs({ args: [...rest], allowPositionals: true, options: { tap: { type: 'string' } } });
      return vmTest({ config, logger, files: positionals, tapFile: values.tap ?? null });
    }
    case 'setup':
      parseArgs({ args: [...rest], options: {} });
      return setup({ config, logger, out });
    case 'images': {
      const [verb, ...args] = rest;
      const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { node: { type: 'boolean', default: false } } });
      if (verb === 'kafka') return imagesKafka({ config, logger, out });
      if (verb !== 'build') throw new CliError(`images ${verb ?? ''}: expected build or kafka`, 2);
      return imagesBuild({ config, logger, services: positionals, out, intoNode: values.node });
    }
    default: {
      if (!isServiceName(command)) throw new CliError(`unknown command "${command}"\n${USAGE}`, 2);
      parseArgs({ args: [...rest], options: {} });
      checkServiceRunnable(command);
      prepareService(command, logger);
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
    const command = process.argv[2];
    process.stderr.write(`stinger: ${error.message}${command === undefined ? '' : ` (stinger ${command} --help lists its options)`}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`stinger: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
