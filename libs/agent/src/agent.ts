/**
 * The node agent as one object: `createAgent` builds the eBPF sensors, the process cache, the file guard, the
 * policies, the local API and the Kafka producers, and returns what the service needs to run it (start, stop,
 * health). The flow of a kernel record: ring buffer reader → record dispatcher (decode) → AgentPipeline
 * (EventBuilder, sequence number, Avro) → EventPublisher (Kafka, or the spool while Kafka is away).
 *
 * Contract (services/agent/src/main.ts is the one caller):
 * - `createAgent` needs root (or CAP_BPF + CAP_PERFMON); it loads the sensors and applies the local policy
 *   directory before it returns, so kernel rules hold before Kafka is reachable;
 * - `start` starts reading the ring buffer, serves the local API and metrics, and connects to Kafka in the
 *   background (the publisher spools until then), then follows the policies and control topics;
 * - `stop` closes everything in the reverse order of opening; detaching the sensors' programs waits in close()
 *   for RCU grace periods (seen to take over 15 s in total on slow kernels): give it time;
 * - `health` is what the local API and the agents topic report.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AgentHealthReporter } from './agent-health.ts';
import { createBpfKernelMaps } from './bpf-kernel-maps.ts';
import { containerPidsFromProc } from './container-pids.ts';
import { ControlCommandHandler } from './control-commands.ts';
import { EventBuilder } from './event-builder.ts';
import { GUARD_RECORD_DELAY_MS, guardRecordOf, GuardRootTracker, rootDirectoryOf } from './guard-records.ts';
import { KernelRuleSlots } from './kernel-rules.ts';
import { NodePolicies } from './node-policies.ts';
import { PodScopes, type NodePod } from './pod-scopes.ts';
import { AgentPipeline } from './pipeline.ts';
import { PolicyDirectory } from './policy-directory.ts';
import { EventPublisher } from './publisher.ts';
import { EventSpool } from './spool.ts';
import { PolicyStatusReporter } from './status-reporter.ts';
import { createAgentApiServer, createAgentMetrics, kernelLossCounts, policyStatusView, sensorHealthOf, type AgentApiSources, type AgentHealth } from '@stinger/agent-api';
import {
  attachEgressParser,
  attachFlowCounters,
  createCwdTable,
  createPodCgroupRoots,
  createPidScopes,
  createPodScopeMap,
  POD_SCOPE_SLOTS,
  bootToWallOffsetNs,
  cgroup2MountPoint,
  cgroupIdOf,
  createRecordDispatcher,
  createRingBufferReader,
  EGRESS_RECORD_DECODERS,
  ensureTracefs,
  FILE_RECORD_DECODERS,
  forEachRecord,
  killExactly,
  loadConnectPolicy,
  loadFileSensor,
  loadNetworkSensor,
  loadPrivilegeSensor,
  loadProcessSensor,
  NETWORK_RECORD_DECODERS,
  PRIVILEGE_RECORD_DECODERS,
  PROCESS_RECORD_DECODERS,
  probeFeatures,
  chooseSensorMode,
  unavailableConnectPolicy,
  unavailableEgressParser,
  unavailableFileSensor,
  unavailableFlowCounters,
  unavailableNetworkSensor,
  unavailablePrivilegeSensor,
} from '@stinger/bpf';
import { requireBrokers, type StingerConfig } from '@stinger/config';
import { startFileGuard } from '@stinger/file-guard';
import { encodeAgentHealth, encodeControlAck, encodePolicyStatus } from '@stinger/events';
import { createKafkaClient, exitOnWrongKafkaSettings, createProducer, deadLetterRecord, tailTopic, topicName, type ConsumedRecord } from '@stinger/kafka';
import { untilDone } from '@stinger/retry';
import { formatIssue } from '@stinger/policy';
import { createNodePodWatch, loadKubeConfig } from '@stinger/k8s';
import { createCgroupPathResolver, createProcReader, findPodCgroupRoots, findPodCgroups, ProcessCache } from '@stinger/process-cache';
import { createPolicyRecordHandler, PolicyRecordGate, ReplayGuard, watchKeyRing } from '@stinger/trust';
import type { Logger } from '@stinger/log';

export interface AgentOptions {
  readonly config: StingerConfig;
  readonly logger: Logger;
  /** The agent's release, reported on the agents topic. */
  readonly version: string;
}

export interface Agent {
  start(): Promise<void>;
  /** Resolves 0 when everything closed cleanly, 1 when a part failed to close (logged). */
  stop(): Promise<number>;
  health(): AgentHealth;
}

export async function createAgent(options: AgentOptions): Promise<Agent> {
  const { config, logger } = options;
  const closers: { name: string; close: () => Promise<void> }[] = [];
  const register = (name: string, close: () => Promise<void>): void => void closers.push({ name, close });
  ensureTracefs();
  const features = probeFeatures();
  logger.info({ features }, 'kernel features probed');
  // Each sensor's mode (lsm, kprobe, tracepoint, fanotify) from the probed features: health, metrics and status say it.
  // The file sensor says its own: an lsm load the kernel refuses falls back to tracepoint.
  const sensorModeOf = (sensor: string): string | null => (sensor === 'file' ? fileSensor.mode : chooseSensorMode(sensor, features).mode);

  const agentId = randomUUID();
  const startedAtNs = BigInt(Date.now()) * 1_000_000n;

  // Policies from the topic and control commands are acted on only when the deployment's key signed them.
  const keyRing = watchKeyRing({ dir: config.keysDir, logger });
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const cgroupRoot = cgroup2MountPoint();
  const cgroupPaths = createCgroupPathResolver({ mountPoint: cgroupRoot });
  const cache = new ProcessCache({ nodeName: config.nodeName, procReader: createProcReader(), cgroupPathOf: (id) => cgroupPaths.pathOf(id) });
  const scanned = cache.scan();

  // Kafka: one idempotent producer for events, and a second one for policy status reports, so that a
  // problem with the status topic never holds up events.
  const client = createKafkaClient({ brokers: requireBrokers(config), connection: config.kafka, role: `agent-${config.nodeName}`, logger });
  // Wrong credentials or an untrusted broker certificate end the process here with one line, not in client retries.
  await exitOnWrongKafkaSettings(client, { logger });
  // Events wait up to 50 ms for company: each produce request costs the agent far more CPU than a record
  // does (measured: agent CPU per fork+exec fell from ~640 to ~410 µs going from 5 to 50 ms, 2 cores).
  const producer = createProducer({ client, lingerMs: 50 });
  const statusProducer = createProducer({ client, compression: 'none' });
  const rawTopic = topicName('eventsRaw', config.kafka.topicPrefix);
  const statusTopic = topicName('policyStatus', config.kafka.topicPrefix);
  const agentsTopic = topicName('agents', config.kafka.topicPrefix);
  const spool = new EventSpool({ dir: config.agent.spoolDir, maxBytes: config.agent.spoolMaxBytes });

  // Sensors share the process sensor's ring buffer. Only the process sensor is required; another that does not
  // load is replaced by its unavailable implementation (libs/bpf), reported unavailable in health, and its
  // policies' kernel rules then fail with the reason it did not load.
  const processSensor = loadProcessSensor({ logger });
  const loadedSensors: string[] = [processSensor.name];
  function optional<T>(name: string, load: () => T, unavailable: (loadError: unknown) => T): T {
    try {
      const sensor = load();
      loadedSensors.push(name);
      return sensor;
    } catch (error) {
      logger.warn({ err: error, sensor: name }, 'sensor unavailable');
      return unavailable(error);
    }
  }
  const fileMode = chooseSensorMode('file', features).mode === 'lsm' ? 'lsm' : 'tracepoint';
  const fileSensor = optional('file', () => loadFileSensor({ join: processSensor, logger, mode: fileMode }), unavailableFileSensor);
  const networkSensor = optional('network', () => loadNetworkSensor({ join: processSensor, logger }), unavailableNetworkSensor);
  // Without the network sensor this fails too (its maps are the network sensor's), naming the network sensor.
  const connectPolicy = optional(
    'connect-policy',
    () => {
      const policy = loadConnectPolicy({ sensor: networkSensor, logger });
      policy.attach(cgroupRoot);
      return policy;
    },
    unavailableConnectPolicy,
  );
  const privilegeSensor = optional('privilege', () => loadPrivilegeSensor({ join: processSensor, logger }), unavailablePrivilegeSensor);
  const flowCounters = optional('flow-counters', () => attachFlowCounters({ cgroupPath: cgroupRoot, logger }), unavailableFlowCounters);
  // DNS names, TLS server names and HTTP requests of outgoing connections, for every socket of the host.
  const egressParser = config.agent.egress.enabled
    ? optional(
        'egress-parser',
        () =>
          attachEgressParser({
            sensor: processSensor,
            cgroupPath: cgroupRoot,
            rateLimit: config.agent.egress,
            flowIntervalMs: config.agent.egress.flowIntervalMs,
            flowRateLimit: { perSecond: config.agent.egress.flowPerSecond, burst: config.agent.egress.flowBurst },
            logger,
          }),
        unavailableEgressParser,
      )
    : unavailableEgressParser();
  // Host-only rules tell pods by their cgroup roots; kubelet may create kubepods.slice after the agent starts.
  const podCgroupRoots = createPodCgroupRoots(processSensor); // shared by every sensor joined to it
  function refreshPodCgroupRoots(): void {
    const roots = findPodCgroupRoots(cgroupRoot);
    try {
      if (podCgroupRoots.set(roots.map((r) => r.id))) logger.info({ podCgroupRoots: roots.map((r) => r.path) }, 'pod cgroup roots');
    } catch (error) {
      logger.error({ err: error }, 'pod cgroup roots not set: host-only rules may apply to pods');
    }
  }
  // Before any policy is applied: a host-only rule must never meet a pod it cannot tell.
  refreshPodCgroupRoots();
  // Pid selectors of the exec, file and connect rules the kernel decides: members seeded from /proc, then followed at fork.
  // Pids as containers see them become host pids through /proc (NSpid, the cgroup telling the container).
  const pidScopes = createPidScopes(processSensor, { containerPids: containerPidsFromProc }); // shared by every sensor joined to it
  let pidScopeChildrenNotAdded = 0n;
  /** A child the kernel could not add to its parent's pid scope escapes the scope's rules: say so once per increase. */
  function checkPidScopes(): void {
    const notAdded = pidScopes.childrenNotAdded();
    if (notAdded > pidScopeChildrenNotAdded) logger.warn({ childrenNotAdded: Number(notAdded) }, 'pid scope map full: children of selected processes were not added (their pid rules do not hold for them)');
    pidScopeChildrenNotAdded = notAdded;
  }
  // Pod selectors (podSelector, namespaces) of the exec, file and connect rules the kernel decides: this node's pods
  // from the API server, each pod's own cgroup from the cgroup tree. Without an API server (no KUBECONFIG, not in a
  // cluster, or STINGER_AGENT_POD_SCOPES=false) there are no pod scopes: those rules are enforced by the pipeline alone,
  // and their statuses say so.
  const kubeConfig = config.agent.podScopes ? loadKubeConfig(config) : null;
  const podScopes = kubeConfig === null ? null : new PodScopes({ map: createPodScopeMap(processSensor), slots: POD_SCOPE_SLOTS });
  const nodePods = kubeConfig === null ? null : createNodePodWatch({ kubeConfig, nodeName: config.nodeName, logger });
  /** When each pod without a cgroup yet was first seen: those are looked for often, for a minute (kubelet makes it soon). */
  const podsAwaitingCgroup = new Map<string, number>();
  function refreshPodScopes(): void {
    if (podScopes === null || nodePods === null) return;
    try {
      const cgroups = findPodCgroups(cgroupRoot, findPodCgroupRoots(cgroupRoot).map((root) => root.path));
      const pods: NodePod[] = nodePods.pods().map((pod) => ({ ...pod, cgroupId: cgroups.get(pod.uid) ?? null }));
      const now = Date.now();
      for (const pod of pods) {
        if (pod.cgroupId !== null) podsAwaitingCgroup.delete(pod.uid);
        else if (!podsAwaitingCgroup.has(pod.uid)) podsAwaitingCgroup.set(pod.uid, now);
      }
      for (const uid of podsAwaitingCgroup.keys()) if (!pods.some((pod) => pod.uid === uid)) podsAwaitingCgroup.delete(uid);
      podScopes.setPods(pods);
    } catch (error) {
      logger.error({ err: error }, 'pod scopes not updated: pod-scoped kernel rules may miss pods (the pipeline still enforces them)');
    }
  }
  nodePods?.onChange(refreshPodScopes);
  void nodePods?.start();
  const podScopeTimer = setInterval(() => {
    const now = Date.now();
    if ([...podsAwaitingCgroup.values()].some((since) => now - since < 60_000)) refreshPodScopes();
  }, 100);
  const watch = new Set(config.agent.watch);
  networkSensor.watch({ connect: watch.has('connect'), accept: watch.has('accept'), bind: watch.has('bind'), listen: watch.has('listen') });
  privilegeSensor.watch({
    setid: watch.has('setid'),
    capset: watch.has('capset'),
    namespace: watch.has('namespace'),
    module: watch.has('module'),
    ptrace: watch.has('ptrace'),
    mount: watch.has('mount'),
    bpfCommands: watch.has('bpf') ? [0, 5] : [], // BPF_MAP_CREATE, BPF_PROG_LOAD
  });

  // Enforcement by file identity (deny and kill-in-kernel file/exec rules): fanotify marks answered by a worker thread.
  // Started before any policy, so each policy's status says whether its identity rules hold on this node.
  const bootToWallNs = bootToWallOffsetNs();
  const fileGuard = await startFileGuard({
    logger,
    // `pipeline` is made below; decisions come only after the policies, which are applied after it.
    onDecision: (decision) =>
      void setTimeout(() => pipeline.handle(guardRecordOf(decision, cache.lookup(decision.pid), bootToWallNs)), GUARD_RECORD_DELAY_MS),
  });
  if (fileGuard.unavailableReason() === null) loadedSensors.push('file-guard');
  const guardRoots = new GuardRootTracker(rootDirectoryOf);
  /** Tells the guard which containers' own files to mark; cheap when nothing changed. */
  function refreshGuardRoots(): void {
    const roots = guardRoots.update(cache.live());
    if (roots !== null) fileGuard.setRoots(roots);
  }
  refreshGuardRoots();

  // Statuses wait for Kafka, and a failed report is sent again: `stinger policy list` must not miss one.
  const statusReporter = new PolicyStatusReporter({
    logger,
    send: (key, status) => statusProducer.enqueue(statusTopic, { key: `${config.nodeName}/${key}`, value: status ? encodePolicyStatus(status) : null }),
  });
  const nodePolicies = new NodePolicies({
    nodeName: config.nodeName,
    agentId,
    slots: new KernelRuleSlots(
      createBpfKernelMaps({ fileSensor, networkSensor, connectPolicy, privilegeSensor, rootCgroupId: cgroupIdOf(cgroupRoot), pidScopes, ...(podScopes ? { podScopes } : {}) }),
    ),
    podScopesUnavailable: () =>
      podScopes !== null ? null : config.agent.podScopes ? 'no Kubernetes API server configured (KUBECONFIG or in-cluster)' : 'STINGER_AGENT_POD_SCOPES=false',
    identity: { unavailable: () => fileGuard.unavailableReason(), setRules: (rules) => fileGuard.setRules(rules) },
    // The file sensor's lsm mode refuses deny rules at file_open and bprm_check_security (libs/bpf).
    lsmDenyUnavailable: () => (fileSensor.mode === 'lsm' ? null : fileSensor.mode === null ? 'the file sensor did not load' : `the file sensor runs in its ${fileSensor.mode} mode (no BPF LSM on this kernel)`),
    onStatus: (key, status) => statusReporter.report(key, status),
  });

  // The kernel joins relative paths to the cwds it learnt at chdir; it never saw those of older processes, nor fchdir.
  const cwds = createCwdTable(processSensor);
  for (const { pid, cwd } of cache.live()) if (cwd) cwds.set(pid, cwd);

  const eventBuilder = new EventBuilder({
    nodeName: config.nodeName,
    agentId,
    bootId,
    bootToWallNs,
    cache,
    ruleOrigin: (ruleId) => nodePolicies.actionFor(ruleId),
    onFchdir: (pid, cwd) => cwds.set(pid, cwd),
  });

  const sources: AgentApiSources = {
    health: () => {
      const published = publisher.stats();
      const ring = reader.stats();
      return {
        agentId,
        node: config.nodeName,
        uptimeSeconds: process.uptime(),
        sensors: sensorHealthOf({ loaded: loadedSensors, features, modeOf: sensorModeOf }),
        lostRecords: [
          ...kernelLossCounts([processSensor, fileSensor, networkSensor, privilegeSensor]),
          // The one reader of the shared ring drops whole batches, whatever their sensors: counted under the ring's owner.
          { sensor: processSensor.name, cause: 'user_space', count: ring.droppedInUserSpace },
          { sensor: 'publisher', cause: 'spool_full', count: published.lost },
          // Audit events the spool refused past three quarters of its bound, keeping the rest for kills and denials.
          { sensor: 'publisher', cause: 'shed', count: published.shed },
          // Refused on purpose by the per-cgroup rate limit (a query storm), counted rather than lost silently.
          { sensor: 'egress-parser', cause: 'rate_limited', count: Number(egressParser.counters().rateLimited) },
          // The flow records' own per-cgroup limit (a connection storm): each refused one is a socket's counts lost.
          { sensor: 'egress-flows', cause: 'rate_limited', count: Number(egressParser.counters().flowsRateLimited) },
        ],
        queueDepth: published.queued,
        kafka: {
          mode: published.mode,
          published: published.published,
          acknowledged: published.acknowledged,
          spooled: published.spooled,
          spoolBytes: spool.stats().bytes,
        },
        processCache: cache.stats(),
      };
    },
    fileGuard: () => {
      const counts = fileGuard.counters();
      return { ...counts, slowAnswers: counts.slow_answers, answerMicros: counts.answer_micros };
    },
    filePaths: () => {
      const { followedPaths, lexicalPaths } = eventBuilder.stats();
      return { followed: followedPaths, lexical: lexicalPaths };
    },
    policies: () => nodePolicies.statuses().map((status) => policyStatusView(status, null)),
    flows: () =>
      flowCounters.read().map((flow) => ({
        cgroup: cgroupPaths.pathOf(flow.cgroupId) ?? String(flow.cgroupId),
        direction: flow.direction,
        bytes: Number(flow.bytes),
        packets: Number(flow.packets),
      })),
  };
  const metrics = createAgentMetrics({ sources, logger });
  // Every node's health for the console: the same figures as the local API, on the compacted agents topic.
  const healthReporter = new AgentHealthReporter({
    sample: () => ({ version: options.version, startedAtNs, health: sources.health(), features, policies: sources.policies() }),
    send: (record) => statusProducer.enqueue(agentsTopic, { key: config.nodeName, value: encodeAgentHealth(record) }),
    intervalMs: config.agent.healthIntervalMs,
    logger,
  });
  const api = createAgentApiServer({ address: config.agent.grpcAddress, sources, logger });

  const publisher = new EventPublisher({
    sink: {
      enqueue: (record) => producer.enqueue(rawTopic, record),
      sendBatch: (records) => producer.send(rawTopic, records),
      get queuedRecords() {
        return producer.queuedRecords;
      },
      flushSoon: () => void producer.flush().catch((error: unknown) => logger.warn({ err: error }, 'urgent flush failed; the records stay queued')),
    },
    spool,
    logger,
    onAck: (ms) => metrics.observeProduceLatency(ms),
  });
  const pipeline = new AgentPipeline({
    nodeName: config.nodeName,
    builder: eventBuilder,
    publisher,
    observe: (event) => {
      // A process of a container the guard does not know yet, or whose root moved (chroot, pivot_root): mark its own files now.
      if (event.kind === 'exec' && event.process.container_id !== null && guardRoots.stale(event.process.container_id)) refreshGuardRoots();
      metrics.observeEvent(event.kind);
      api.publishEvent(event);
    },
    // Reported for a rule the pipeline kills on: no 50 ms linger before the detector sees it.
    isUrgent: (record) => 'ruleId' in record && nodePolicies.isPipelineKill(record.ruleId),
  });

  const dispatcher = createRecordDispatcher<Parameters<AgentPipeline['handle']>[0]>([
    PROCESS_RECORD_DECODERS,
    FILE_RECORD_DECODERS,
    NETWORK_RECORD_DECODERS,
    EGRESS_RECORD_DECODERS,
    PRIVILEGE_RECORD_DECODERS,
  ]);
  const reader = createRingBufferReader({
    map: processSensor.events,
    logger,
    coalesceMs: config.agent.ringCoalesceMs,
    onBatch: (batch) =>
      forEachRecord(batch, (offset, length) => {
        const record = dispatcher.decode({ buffer: batch.buffer, view: batch.view, offset, length });
        if (record) pipeline.handle(record);
      }),
  });

  // Local policies first: they hold before Kafka is reachable.
  const policyDirectory = new PolicyDirectory({
    dir: config.agent.policyDir,
    apply: (policy) => nodePolicies.applyLocal(policy),
    remove: (key) => nodePolicies.remove(key),
    onInvalid: (file, issues) => logger.error({ file, issues: issues.map(formatIssue) }, 'invalid policy file ignored; its previous version stays in force'),
  });
  policyDirectory.scan();
  const directoryTimer = setInterval(() => policyDirectory.scan(), 5000);

  const podRootsTimer = setInterval(() => {
    refreshPodCgroupRoots();
    refreshGuardRoots();
    checkPidScopes();
    refreshPodScopes();
  }, 5000);


  register('producer', () => producer.disconnect());
  register('status-producer', () => statusProducer.disconnect());
  register('publisher', () => publisher.stop());
  register('sensors', async () => {
    egressParser.close();
    flowCounters.close();
    connectPolicy.close();
    privilegeSensor.close();
    networkSensor.close();
    fileSensor.close();
    processSensor.close();
  });
  register('reader', () => reader.stop());
  register('file-guard', () => fileGuard.close());
  register('policy-directory', async () => clearInterval(directoryTimer));
  register('pod-cgroup-roots', async () => clearInterval(podRootsTimer));
  register('pod-scopes', async () => {
    clearInterval(podScopeTimer);
    await nodePods?.stop();
  });
  register('key-ring', async () => keyRing.stop());

  return {
    health: () => sources.health(),
    async start() {
    reader.start();
    await api.start();
    const metricsServer = await metrics.serve({ address: config.agent.metricsAddress });
    register('agent-api', () => api.stop());
    register('metrics', () => metricsServer.stop());

    // The broker may be away at start: the publisher spools until the producer connects.
    void untilDone({ what: 'connect to Kafka', logger }, async () => {
      await producer.connect();
      await statusProducer.connect();
    }).then(async () => {
      // The first health report does not wait for the spool to drain: a node catching up says so (kafka_mode spooling).
      const draining = publisher.start();
      // Registered after the producers: closers run in reverse, so the last report goes out before they disconnect.
      register('agent-health', () => healthReporter.stop());
      void healthReporter.start();
      await draining;
      await statusReporter.start();
      const statusTimer = setInterval(() => void statusReporter.flush(), 5000);
      register('status-reporter', async () => clearInterval(statusTimer));
      const dlqTopic = topicName('dlq', config.kafka.topicPrefix);
      const acksTopic = topicName('controlAcks', config.kafka.topicPrefix);
      const takePolicyRecord = createPolicyRecordHandler<ConsumedRecord>({
        gate: new PolicyRecordGate(keyRing.current),
        apply: (key, compiled) => (compiled === null ? nodePolicies.remove(key) : nodePolicies.applyCompiled(key, compiled)),
        refuse: (key, reason, detail) => {
          metrics.observeRefused('policy', reason);
          logger.warn({ policy: key, reason, detail }, 'policy record refused; what is in force stays');
        },
        // Signed by a trusted key yet not a CompiledPolicy this agent reads: kept for an operator, and the policy's
        // status says the record was refused while what is loaded stays.
        undecodable: (record, detail) => {
          const dead = deadLetterRecord({ consumer: `agent ${config.nodeName}`, dlqTopic }, record, { reason: 'undecodable CompiledPolicy', detail });
          void statusProducer.enqueue(dlqTopic, dead).catch((failure: unknown) => logger.error({ err: failure }, 'dead letter not published'));
          nodePolicies.refuseUndecodable(record.key?.toString() ?? '', detail);
        },
      });
      await untilDone({ what: 'follow the policies topic', logger }, async () => {
        const policyTail = await tailTopic({
          client,
          topic: topicName('policies', config.kafka.topicPrefix),
          sinceMs: 0,
          onRecord: takePolicyRecord,
        });
        register('policy-tail', () => policyTail.stop());
      });
      const commands = new ControlCommandHandler({
        node: config.nodeName,
        agentId,
        ring: keyRing.current,
        replays: new ReplayGuard(),
        cachedStartTimeOf: (pid) => {
          const info = cache.get(pid);
          return info !== undefined && info.exitTimeNs === null ? info.startTimeNs : undefined;
        },
        kill: killExactly,
        onRefused: (reason, command) => {
          metrics.observeRefused('command', reason);
          if (reason !== 'other_node') logger.warn({ reason, commandId: command?.command_id, target: command?.target.pid, policy: command?.policy }, 'control command not acted on');
        },
      });
      await untilDone({ what: 'follow the control topic', logger }, async () => {
        const controlTail = await tailTopic({
          client,
          topic: topicName('control', config.kafka.topicPrefix),
          // Commands issued while the agent restarted are still taken if they have not expired (agents accept 5 min at most).
          sinceMs: Date.now() - 5 * 60_000,
          onRecord: (record) => {
            const result = commands.handleRecord(record);
            switch (result.kind) {
              case 'none':
                return;
              case 'undecodable': {
                const dead = deadLetterRecord({ consumer: `agent ${config.nodeName}`, dlqTopic }, record, { reason: 'undecodable ControlCommand', detail: result.detail });
                void statusProducer.enqueue(dlqTopic, dead).catch((failure: unknown) => logger.error({ err: failure }, 'dead letter not published'));
                return;
              }
              case 'ack':
                metrics.observeCommand(result.ack.status);
                if (result.ack.status === 'killed') logger.info({ commandId: result.ack.command_id }, 'control command: process killed');
                void statusProducer.enqueue(acksTopic, { key: config.nodeName, value: encodeControlAck(result.ack) }).catch((error: unknown) => logger.error({ err: error }, 'ack not published'));
            }
          },
        });
        register('control-tail', () => controlTail.stop());
      });
    });
    logger.info({ agentId, node: config.nodeName, scanned, sensors: Object.fromEntries(loadedSensors.map((name) => [name, sensorModeOf(name)])), topic: rawTopic }, 'agent running');
    },
    async stop() {
      let code = 0;
      for (const { name, close } of [...closers].reverse()) {
        try {
          await close();
        } catch (error) {
          code = 1;
          logger.error({ err: error, closer: name }, 'close failed');
        }
      }
      return code;
    },
  };
}
