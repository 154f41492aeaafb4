/**
 * The working directories the kernel joins relative paths to (cwd_by_tgid in bpf/lib/stinger_maps.h). The kernel
 * learns them itself at chdir and copies them at fork; user space writes the ones the kernel cannot learn: processes
 * older than the agent (seeded at start) and fchdir (the agent knows the directory from /proc). The map is shared
 * like the ring buffer, so one table serves every sensor joined to `sensor`.
 */
import { CWD_ENTRY_LAYOUT, FILE_PATH_SIZE } from './records.ts';
import { tgidKey } from '../core/map-keys.ts';
import type { Sensor } from '../core/sensor.ts';

export interface CwdTable {
  /** Records tgid's cwd; false (and the entry dropped: unknown) when the path is not plain or too long. */
  set(tgid: number, path: string): boolean;
  delete(tgid: number): void;
  /** The kernel's entry for tgid, or null. */
  get(tgid: number): string | null;
}

/**
 * A path the kernel may join to: absolute, no "." or ".." component, no "//", no trailing '/' (but "/"), at most
 * FILE_PATH_SIZE - 2 bytes (path_is_plain in bpf/file/file_match.h).
 */
export function isPlainCwd(path: string): boolean {
  if (!path.startsWith('/') || Buffer.byteLength(path) > FILE_PATH_SIZE - 2 || path.includes('\0')) return false;
  if (path === '/') return true;
  return !path.endsWith('/') && path.slice(1).split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

export function createCwdTable(sensor: Sensor): CwdTable {
  const map = sensor.sharedMap('cwd_by_tgid');
  return {
    set(tgid, path) {
      const key = tgidKey(tgid);
      if (!isPlainCwd(path)) {
        map.delete(key);
        return false;
      }
      const value = Buffer.alloc(CWD_ENTRY_LAYOUT.size);
      const bytes = Buffer.from(path);
      value.writeUInt32LE(bytes.length, CWD_ENTRY_LAYOUT.offsets.len);
      bytes.copy(value, CWD_ENTRY_LAYOUT.offsets.path);
      map.update(key, value);
      return true;
    },
    delete(tgid) {
      map.delete(tgidKey(tgid));
    },
    get(tgid) {
      const view = Buffer.alloc(CWD_ENTRY_LAYOUT.size);
      if (!map.lookup(tgidKey(tgid), view)) return null;
      const len = view.readUInt32LE(CWD_ENTRY_LAYOUT.offsets.len);
      return view.subarray(CWD_ENTRY_LAYOUT.offsets.path, CWD_ENTRY_LAYOUT.offsets.path + len).toString();
    },
  };
}
