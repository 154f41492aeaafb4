/**
 * The initramfs format the kernel unpacks: a "newc" cpio archive (ASCII hex headers, names and data padded to 4
 * bytes, ended by the TRAILER!!! entry; Documentation/driver-api/early-userspace/buffer-format.rst). Written here
 * because Debian's cpio is not installed on these machines and the archive holds a handful of files.
 */

/** One archive member: a directory, a regular file with its bytes, or a symbolic link to `target`. */
export type CpioEntry =
  | { readonly kind: 'directory'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const TRAILER = 'TRAILER!!!';

function hex8(value: number): string {
  return value.toString(16).padStart(8, '0');
}

function padTo4(length: number): number {
  return (4 - (length % 4)) % 4;
}

function member(path: string, mode: number, { ino, data }: { readonly ino: number; readonly data: Uint8Array }): Buffer {
  const name = Buffer.from(`${path}\0`);
  // c_magic, then 13 fields: ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check.
  const fields = [ino, mode, 0, 0, (mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, data.length, 0, 0, 0, 0, name.length, 0];
  const header = Buffer.from(`070701${fields.map(hex8).join('')}`);
  const namePad = Buffer.alloc(padTo4(header.length + name.length));
  return Buffer.concat([header, name, namePad, data, Buffer.alloc(padTo4(data.length))]);
}

/**
 * The archive of `entries`, in order (a directory must come before what it holds). Paths are relative to the
 * archive root, without a leading slash; owner root, mtime 0, so the same entries give the same bytes.
 */
export function cpioArchive(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((entry, index) => {
    if (entry.path === '' || entry.path.startsWith('/')) throw new Error(`cpio member path must be relative: "${entry.path}"`);
    const ino = index + 1;
    switch (entry.kind) {
      case 'directory':
        parts.push(member(entry.path, S_IFDIR | (entry.mode ?? 0o755), { ino, data: new Uint8Array() }));
        break;
      case 'file':
        parts.push(member(entry.path, S_IFREG | (entry.mode ?? 0o644), { ino, data: entry.data }));
        break;
      case 'symlink':
        parts.push(member(entry.path, S_IFLNK | 0o777, { ino, data: Buffer.from(entry.target) }));
        break;
    }
  });
  parts.push(member(TRAILER, 0, { ino: 0, data: new Uint8Array() }));
  return Buffer.concat(parts);
}
