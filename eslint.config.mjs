// Lint is part of the build: every rule here fails `npm run lint`, which the test command runs.
// Package boundaries (tRPC/Nx style): services never import services; libraries never import services;
// each third-party client is confined to its one library.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const CLIENT_LIBS = {
  kafkajs: 'libs/kafka',
  koffi: 'libs/bpf',
  '@kubernetes/client-node': 'libs/k8s',
};

function bannedClients(except) {
  return Object.entries(CLIENT_LIBS)
    .filter(([name]) => name !== except)
    .map(([name, home]) => ({ name, message: `${name} may only be imported in ${home}` }));
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.nx/**', '**/dist/**', 'libs/*/src/generated/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:cli', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:test', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
      'no-restricted-imports': [
        'error',
        { paths: bannedClients(null), patterns: [{ group: ['@stinger/*/*'], message: 'import a library only through its public entry' }] },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'read the environment only through @stinger/config (loadConfig)' },
      ],
      'no-console': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: false }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-params': ['error', 3],
    },
  },
  ...Object.entries(CLIENT_LIBS).map(([name, home]) => ({
    files: [`${home}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: bannedClients(name), patterns: [{ group: ['@stinger/*/*'], message: 'import a library only through its public entry' }] },
      ],
    },
  })),
  { files: ['libs/config/src/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  {
    // Command-line output, test and benchmark scripts may print.
    files: ['libs/cli/**/*.ts', 'integration-tests/**/*.ts', 'benchmarks/**/*.ts', '**/scripts/**/*.ts', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
  // node:test's test()/describe() return promises the runner itself awaits.
  { files: ['**/*.test.ts', 'integration-tests/**/*.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off' } },
);
