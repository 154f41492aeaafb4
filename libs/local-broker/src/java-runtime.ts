/**
 * The JVM that runs Kafka: `java` from PATH, which must be 17 or newer (Kafka 4.x brokers need Java 17).
 */
import { execFile } from 'node:child_process';
import { JavaRuntimeError } from './errors.ts';

export const MINIMUM_JAVA_MAJOR = 17;

/** Major version from `java -version` output: `openjdk version "17.0.15"` → 17, `java version "1.8.0_402"` → 8. */
export function parseJavaMajorVersion(versionOutput: string): number | null {
  const match = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!match) return null;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

/** Checks `java` on PATH and returns its major version; throws JavaRuntimeError when missing or too old. */
export async function checkJavaRuntime(javaCommand = 'java'): Promise<number> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(javaCommand, ['-version'], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) reject(error);
      else resolve(`${stderr}${stdout}`);
    });
  }).catch((error: unknown) => {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new JavaRuntimeError(
      missing
        ? `"${javaCommand}" was not found on PATH; Kafka needs Java ${MINIMUM_JAVA_MAJOR} or newer (e.g. apt-get install openjdk-17-jre-headless)`
        : `"${javaCommand} -version" failed`,
      { cause: error },
    );
  });
  const major = parseJavaMajorVersion(output);
  if (major === null) throw new JavaRuntimeError(`could not read a version from "${javaCommand} -version": ${output.trim()}`);
  if (major < MINIMUM_JAVA_MAJOR) {
    throw new JavaRuntimeError(`"${javaCommand}" is Java ${major}; Kafka needs Java ${MINIMUM_JAVA_MAJOR} or newer`);
  }
  return major;
}
