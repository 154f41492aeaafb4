/**
 * The FFI layer: libbpf.so.1, the native helper (native/*.c, built into ../build) and two libc calls, bound with
 * koffi. Internal to @stinger/bpf — the rest of the library wraps these in typed objects; nothing here is exported
 * from the package. Bindings are created on first use so that importing the package never needs libbpf.
 *
 * libbpf 1.x conventions relied on: int-returning calls return -errno; pointer-returning calls return NULL and
 * set errno (read with koffi.errno() right after the call, before any other FFI call).
 */
import koffi, { type LibraryHandle } from 'koffi';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BpfEnvironmentError } from './errors.ts';

/** Opaque libbpf handles; `null` is NULL. */
export type Pointer = object;

export const NATIVE_LIBRARY_PATH = fileURLToPath(new URL('../../build/libstinger_bpf_native.so', import.meta.url));

type Fn<A extends unknown[], R> = ((...args: A) => R) & { async: (...args: [...A, (err: unknown, result: R) => void]) => void };

export interface Libbpf {
  readonly bpf_object__open_file: Fn<[path: string, opts: null], Pointer | null>;
  readonly bpf_object__load: Fn<[obj: Pointer], number>;
  readonly bpf_object__close: Fn<[obj: Pointer], void>;
  readonly bpf_object__next_program: Fn<[obj: Pointer, prev: Pointer | null], Pointer | null>;
  readonly bpf_object__next_map: Fn<[obj: Pointer, prev: Pointer | null], Pointer | null>;
  readonly bpf_program__name: Fn<[prog: Pointer], string>;
  readonly bpf_program__section_name: Fn<[prog: Pointer], string>;
  readonly bpf_program__set_autoload: Fn<[prog: Pointer, autoload: boolean], number>;
  readonly bpf_program__autoload: Fn<[prog: Pointer], boolean>;
  readonly bpf_program__fd: Fn<[prog: Pointer], number>;
  readonly bpf_program__attach: Fn<[prog: Pointer], Pointer | null>;
  readonly bpf_program__attach_cgroup: Fn<[prog: Pointer, cgroupFd: number], Pointer | null>;
  readonly bpf_link__destroy: Fn<[link: Pointer], number>;
  readonly bpf_map__name: Fn<[map: Pointer], string>;
  readonly bpf_map__fd: Fn<[map: Pointer], number>;
  readonly bpf_map__type: Fn<[map: Pointer], number>;
  readonly bpf_map__key_size: Fn<[map: Pointer], number>;
  readonly bpf_map__value_size: Fn<[map: Pointer], number>;
  readonly bpf_map__max_entries: Fn<[map: Pointer], number>;
  readonly bpf_map__reuse_fd: Fn<[map: Pointer, fd: number], number>;
  readonly bpf_map_update_elem: Fn<[fd: number, key: Uint8Array, value: Uint8Array, flags: number], number>;
  readonly bpf_map_lookup_elem: Fn<[fd: number, key: Uint8Array, value: Uint8Array], number>;
  readonly bpf_map_delete_elem: Fn<[fd: number, key: Uint8Array], number>;
  readonly bpf_map_get_next_key: Fn<[fd: number, key: Uint8Array | null, nextKey: Uint8Array], number>;
  readonly libbpf_num_possible_cpus: Fn<[], number>;
  readonly libbpf_probe_bpf_map_type: Fn<[mapType: number, opts: null], number>;
  readonly libbpf_probe_bpf_prog_type: Fn<[progType: number, opts: null], number>;
}

export interface NativeHelper {
  readonly ringdrain_new: Fn<[mapFd: number], Pointer | null>;
  readonly ringdrain_wait: Fn<[drain: Pointer, timeoutMs: number], number>;
  readonly ringdrain_wake: Fn<[drain: Pointer], number>;
  readonly ringdrain_drain: Fn<[drain: Pointer, out: Uint8Array, cap: number], number>;
  readonly ringdrain_count: Fn<[drain: Pointer], number>;
  readonly ringdrain_oversize: Fn<[drain: Pointer], number | bigint>;
  readonly ringdrain_free: Fn<[drain: Pointer], void>;
  readonly stinger_libbpf_capture_log: Fn<[], void>;
  readonly stinger_libbpf_take_log: Fn<[out: Uint8Array, cap: number], number>;
}

export interface Libc {
  readonly mount: Fn<[source: string, target: string, fstype: string, flags: number, data: null], number>;
  readonly close: Fn<[fd: number], number>;
  readonly open: Fn<[path: string, flags: number], number>;
}

let bindings: { libbpf: Libbpf; native: NativeHelper; libc: Libc } | undefined;

function bind<T>(lib: LibraryHandle, declarations: readonly string[]): T {
  const out: Record<string, unknown> = {};
  for (const declaration of declarations) {
    const fn = lib.func(declaration);
    out[fn.info.name] = fn;
  }
  return out as T;
}

/** The bound libraries; throws BpfEnvironmentError when libbpf.so.1 or the native helper is missing. */
export function ffi(): { libbpf: Libbpf; native: NativeHelper; libc: Libc } {
  if (bindings) return bindings;
  if (!existsSync(NATIVE_LIBRARY_PATH)) {
    throw new BpfEnvironmentError(`native helper ${NATIVE_LIBRARY_PATH} is not built: run npm run -w @stinger/bpf build:bpf`);
  }
  let libbpfHandle: LibraryHandle;
  let nativeHandle: LibraryHandle;
  try {
    libbpfHandle = koffi.load('libbpf.so.1');
    nativeHandle = koffi.load(NATIVE_LIBRARY_PATH);
  } catch (cause) {
    throw new BpfEnvironmentError('cannot load libbpf.so.1 or the native helper (Debian: apt-get install libbpf1)', { cause });
  }
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_program');
  koffi.opaque('bpf_map');
  koffi.opaque('bpf_link');
  koffi.opaque('ringdrain');
  const libbpf = bind<Libbpf>(libbpfHandle, [
    'bpf_object *bpf_object__open_file(const char *path, void *opts)',
    'int bpf_object__load(bpf_object *obj)',
    'void bpf_object__close(bpf_object *obj)',
    'bpf_program *bpf_object__next_program(bpf_object *obj, bpf_program *prev)',
    'bpf_map *bpf_object__next_map(bpf_object *obj, bpf_map *prev)',
    'const char *bpf_program__name(bpf_program *prog)',
    'const char *bpf_program__section_name(bpf_program *prog)',
    'int bpf_program__set_autoload(bpf_program *prog, bool autoload)',
    'bool bpf_program__autoload(bpf_program *prog)',
    'int bpf_program__fd(bpf_program *prog)',
    'bpf_link *bpf_program__attach(bpf_program *prog)',
    'bpf_link *bpf_program__attach_cgroup(bpf_program *prog, int cgroup_fd)',
    'int bpf_link__destroy(bpf_link *link)',
    'const char *bpf_map__name(bpf_map *map)',
    'int bpf_map__fd(bpf_map *map)',
    'int bpf_map__type(bpf_map *map)',
    'uint32_t bpf_map__key_size(bpf_map *map)',
    'uint32_t bpf_map__value_size(bpf_map *map)',
    'uint32_t bpf_map__max_entries(bpf_map *map)',
    'int bpf_map__reuse_fd(bpf_map *map, int fd)',
    'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
    'int bpf_map_lookup_elem(int fd, const void *key, _Out_ void *value)',
    'int bpf_map_delete_elem(int fd, const void *key)',
    'int bpf_map_get_next_key(int fd, const void *key, _Out_ void *next_key)',
    'int libbpf_num_possible_cpus()',
    'int libbpf_probe_bpf_map_type(int map_type, void *opts)',
    'int libbpf_probe_bpf_prog_type(int prog_type, void *opts)',
  ]);
  const native = bind<NativeHelper>(nativeHandle, [
    'ringdrain *ringdrain_new(int map_fd)',
    'int ringdrain_wait(ringdrain *drain, int timeout_ms)',
    'int ringdrain_wake(ringdrain *drain)',
    'int64_t ringdrain_drain(ringdrain *drain, _Inout_ void *out, size_t cap)',
    'uint32_t ringdrain_count(ringdrain *drain)',
    'uint64_t ringdrain_oversize(ringdrain *drain)',
    'void ringdrain_free(ringdrain *drain)',
    'void stinger_libbpf_capture_log()',
    'size_t stinger_libbpf_take_log(_Out_ void *out, size_t cap)',
  ]);
  const libc = bind<Libc>(koffi.load('libc.so.6'), [
    'int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)',
    'int close(int fd)',
    'int open(const char *path, int flags)',
  ]);
  native.stinger_libbpf_capture_log();
  bindings = { libbpf, native, libc };
  return bindings;
}

/** errno of the FFI call that just returned (pointer-returning libbpf calls report failure this way). */
export function lastErrno(): number {
  return koffi.errno();
}

const logScratch = new Uint8Array(65536);

/** What libbpf logged since the last call (INFO and WARN; includes verifier logs), then forgets it. */
export function takeLibbpfLog(): string {
  const n = ffi().native.stinger_libbpf_take_log(logScratch, logScratch.length);
  return Buffer.from(logScratch.buffer, 0, n).toString('utf8');
}
