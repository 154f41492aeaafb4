/**
 * BPF objects, programs, maps and links over libbpf.
 *
 * Life cycle: `openBpfObject` parses the ELF (nothing in the kernel yet); the caller may switch programs off or
 * point maps at existing ones (`reuseMap`, how sensors share one ring buffer); `load()` creates the maps and
 * verifies the programs; `attach()` attaches programs by their SEC name (tracepoint/…, raw_tracepoint/…) and
 * returns links; `close()` destroys every link made through this object, then the object (programs and maps it
 * created are freed by the kernel once nothing else holds them). Nothing is pinned.
 */
import { BpfAttachError, BpfLoadError, BpfMapError, errnoName } from './errors.ts';
import { ffi, lastErrno, takeLibbpfLog, type Pointer } from './libbpf.ts';

/** bpf_map_update_elem flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

const ENOENT = 2;

/** A map of a loaded object (or to be loaded: `fd` is -1 until then). Keys and values are raw bytes. */
export class BpfMap {
  readonly name: string;
  readonly #map: Pointer;

  constructor(map: Pointer) {
    this.#map = map;
    this.name = ffi().libbpf.bpf_map__name(map);
  }

  get fd(): number {
    return ffi().libbpf.bpf_map__fd(this.#map);
  }

  get type(): number {
    return ffi().libbpf.bpf_map__type(this.#map);
  }

  get keySize(): number {
    return ffi().libbpf.bpf_map__key_size(this.#map);
  }

  get valueSize(): number {
    return ffi().libbpf.bpf_map__value_size(this.#map);
  }

  get maxEntries(): number {
    return ffi().libbpf.bpf_map__max_entries(this.#map);
  }

  /** Before load: use the already created map `fd` instead of creating this one (same type and sizes required). */
  reuseFd(fd: number): void {
    const err = ffi().libbpf.bpf_map__reuse_fd(this.#map, fd);
    if (err < 0) throw new BpfMapError(`map ${this.name}: reuse of fd ${fd} failed: ${errnoName(-err)}`, { errno: -err });
  }

  /** Inserts or replaces (flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST). */
  update(key: Uint8Array, value: Uint8Array, flags: number = BPF_ANY): void {
    const err = ffi().libbpf.bpf_map_update_elem(this.fd, key, value, flags);
    if (err < 0) throw new BpfMapError(`map ${this.name}: update failed: ${errnoName(-err)}`, { errno: -err });
  }

  /**
   * Copies the value of `key` into `value` (for per-CPU maps: one 8-byte-aligned slot per possible CPU) and
   * returns true, or returns false when the key is absent.
   */
  lookup(key: Uint8Array, value: Uint8Array): boolean {
    const err = ffi().libbpf.bpf_map_lookup_elem(this.fd, key, value);
    if (err === -ENOENT) return false;
    if (err < 0) throw new BpfMapError(`map ${this.name}: lookup failed: ${errnoName(-err)}`, { errno: -err });
    return true;
  }

  /**
   * Every key, read before the first is yielded (a map the kernel changes meanwhile may gain or lose keys; none is
   * yielded twice).
   */
  keys(): Uint8Array[] {
    const keys: Uint8Array[] = [];
    let previous: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.keySize);
      const err = ffi().libbpf.bpf_map_get_next_key(this.fd, previous, next);
      if (err === -ENOENT) return keys;
      if (err < 0) throw new BpfMapError(`map ${this.name}: get next key failed: ${errnoName(-err)}`, { errno: -err });
      keys.push(next);
      previous = next;
    }
  }

  /** Removes every key (see keys()). */
  clear(): void {
    for (const key of this.keys()) this.delete(key);
  }

  /** Removes `key`; returns false when it was absent. */
  delete(key: Uint8Array): boolean {
    const err = ffi().libbpf.bpf_map_delete_elem(this.fd, key);
    if (err === -ENOENT) return false;
    if (err < 0) throw new BpfMapError(`map ${this.name}: delete failed: ${errnoName(-err)}`, { errno: -err });
    return true;
  }
}

/** An attachment; `destroy()` detaches it (idempotent). */
export class BpfLink {
  readonly program: string;
  #link: Pointer | null;

  constructor(program: string, link: Pointer) {
    this.program = program;
    this.#link = link;
  }

  get attached(): boolean {
    return this.#link !== null;
  }

  destroy(): void {
    if (this.#link === null) return;
    ffi().libbpf.bpf_link__destroy(this.#link);
    this.#link = null;
  }
}

export class BpfProgram {
  readonly name: string;
  readonly sectionName: string;
  readonly #prog: Pointer;
  readonly #onLink: (link: BpfLink) => void;

  constructor(prog: Pointer, onLink: (link: BpfLink) => void) {
    this.#prog = prog;
    this.#onLink = onLink;
    this.name = ffi().libbpf.bpf_program__name(prog);
    this.sectionName = ffi().libbpf.bpf_program__section_name(prog);
  }

  get fd(): number {
    return ffi().libbpf.bpf_program__fd(this.#prog);
  }

  get autoload(): boolean {
    return ffi().libbpf.bpf_program__autoload(this.#prog);
  }

  /** Before load: whether this program is loaded at all. */
  set autoload(on: boolean) {
    const err = ffi().libbpf.bpf_program__set_autoload(this.#prog, on);
    if (err < 0) throw new BpfLoadError(`program ${this.name}: set autoload failed: ${errnoName(-err)}`, { errno: -err });
  }

  /** Attaches by section name (tracepoint/<cat>/<name>, raw_tracepoint/<name>, kprobe/…, fentry/…, lsm/…). */
  attach(): BpfLink {
    return this.#attached(ffi().libbpf.bpf_program__attach(this.#prog), 'attach');
  }

  /** Attaches a cgroup program (cgroup/connect4, …) to the cgroup v2 directory open as `cgroupFd`. */
  attachCgroup(cgroupFd: number): BpfLink {
    return this.#attached(ffi().libbpf.bpf_program__attach_cgroup(this.#prog, cgroupFd), 'attach to cgroup');
  }

  #attached(link: Pointer | null, what: string): BpfLink {
    if (link === null) {
      const errno = lastErrno();
      throw new BpfAttachError(`program ${this.name} (${this.sectionName}): ${what} failed: ${errnoName(errno)}`, {
        errno,
        libbpfLog: takeLibbpfLog(),
      });
    }
    const wrapped = new BpfLink(this.name, link);
    this.#onLink(wrapped);
    return wrapped;
  }
}

export class BpfObject {
  readonly path: string;
  #obj: Pointer | null;
  #loaded = false;
  readonly #programs = new Map<string, BpfProgram>();
  readonly #maps = new Map<string, BpfMap>();
  readonly #links: BpfLink[] = [];

  constructor(path: string, obj: Pointer) {
    this.path = path;
    this.#obj = obj;
    const { libbpf } = ffi();
    for (let p = libbpf.bpf_object__next_program(obj, null); p !== null; p = libbpf.bpf_object__next_program(obj, p)) {
      const program = new BpfProgram(p, (link) => this.#links.push(link));
      this.#programs.set(program.name, program);
    }
    for (let m = libbpf.bpf_object__next_map(obj, null); m !== null; m = libbpf.bpf_object__next_map(obj, m)) {
      const map = new BpfMap(m);
      this.#maps.set(map.name, map);
    }
  }

  get loaded(): boolean {
    return this.#loaded;
  }

  get programs(): readonly BpfProgram[] {
    return [...this.#programs.values()];
  }

  get maps(): readonly BpfMap[] {
    return [...this.#maps.values()];
  }

  program(name: string): BpfProgram {
    const program = this.#programs.get(name);
    if (!program) throw new BpfLoadError(`${this.path}: no program named ${name}`);
    return program;
  }

  map(name: string): BpfMap {
    const map = this.#maps.get(name);
    if (!map) throw new BpfLoadError(`${this.path}: no map named ${name}`);
    return map;
  }

  hasMap(name: string): boolean {
    return this.#maps.has(name);
  }

  /** Creates the maps and loads the programs marked autoload; a verifier rejection carries the verifier log. */
  load(): void {
    const err = ffi().libbpf.bpf_object__load(this.#handle());
    if (err < 0) {
      throw new BpfLoadError(`${this.path}: load failed: ${errnoName(-err)}`, { errno: -err, libbpfLog: takeLibbpfLog() });
    }
    this.#loaded = true;
  }

  /** Attaches every loaded program by its section name; on a failure detaches what this call attached and throws. */
  attach(): BpfLink[] {
    const links: BpfLink[] = [];
    try {
      for (const program of this.#programs.values()) {
        if (program.autoload) links.push(program.attach());
      }
    } catch (error) {
      for (const link of links) link.destroy();
      throw error;
    }
    return links;
  }

  /** Destroys every link made through this object; the object stays loaded and may attach again. */
  detach(): void {
    for (const link of this.#links.splice(0)) link.destroy();
  }

  /** Destroys every link made through this object, then the object. Idempotent. */
  close(): void {
    for (const link of this.#links.splice(0)) link.destroy();
    if (this.#obj !== null) ffi().libbpf.bpf_object__close(this.#obj);
    this.#obj = null;
  }

  #handle(): Pointer {
    if (this.#obj === null) throw new BpfLoadError(`${this.path}: object already closed`);
    return this.#obj;
  }
}

export interface OpenBpfObjectOptions {
  /** Path of a compiled object (bpf/build/*.bpf.o). */
  readonly path: string;
}

/** Parses an object file; nothing reaches the kernel until `load()`. */
export function openBpfObject({ path }: OpenBpfObjectOptions): BpfObject {
  const obj = ffi().libbpf.bpf_object__open_file(path, null);
  if (obj === null) {
    const errno = lastErrno();
    throw new BpfLoadError(`${path}: open failed: ${errnoName(errno)}`, { errno, libbpfLog: takeLibbpfLog() });
  }
  return new BpfObject(path, obj);
}
