export { ProcessCache } from './process-cache.ts';
export type { ProcessInfo, ProcessCacheOptions, ProcessCacheStats, ForkInput, ExecInput } from './process-cache.ts';
export { createProcReader, parseStat, parseStatusIds, parseCgroupV2Path } from './proc-reader.ts';
export type { ProcReader, ProcSnapshot, ProcReaderOptions } from './proc-reader.ts';
export { normalizeAbsolutePath, resolvePath } from './paths.ts';
export { containerIdFromCgroupPath, podUidFromCgroupPath, isKubernetesPodCgroup } from './container-id.ts';
export { createCgroupPathResolver } from './cgroup-paths.ts';
export type { CgroupPathResolver, CgroupPathResolverOptions } from './cgroup-paths.ts';
