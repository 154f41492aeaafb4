/**
 * From the BPF decoders' records (libs/bpf, tied to the C structs) to the agent's SensorRecord (tied
 * to nothing): the one place where the kernel's view is mapped onto the event model.
 */
import type { ProcessRecord } from '@stinger/bpf';
import type { SensorRecord } from './event-builder.ts';

export function sensorRecordFromProcessRecord(record: ProcessRecord): SensorRecord {
  switch (record.kind) {
    case 'exec':
      return {
        kind: 'exec',
        timeNs: record.timeNs,
        pid: record.pid,
        tid: record.tid,
        uid: record.uid,
        gid: record.gid,
        cgroupId: record.cgroupId,
        binary: record.binary,
        argv: record.args,
        argsTruncated: record.argsTruncated,
      };
    case 'fork':
      return { kind: 'fork', timeNs: record.timeNs, pid: record.pid, tid: record.tid, childPid: record.childPid };
    case 'exit':
      return { kind: 'exit', timeNs: record.timeNs, pid: record.pid, tid: record.tid, code: record.code, signal: record.signal };
  }
}
