// Lint is part of the build: every rule here fails `npm run lint`, which the test command runs.
// Package boundaries (tRPC/Nx style): services never import services; libraries never import services;
// each third-party client is confined to its one library.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// koffi (native calls) has two homes: libbpf and the eBPF objects, and fanotify for the file guard.
const CLIENT_LIBS = {
  kafkajs: ['libs/kafka'],
  koffi: ['libs/bpf', 'libs/file-guard'],
  '@kubernetes/client-node': ['libs/k8s'],
};

// The console page (services/console/web/src) has hubble-ui's layers: api (the only code that talks HTTP) →
// data-layer (requests and streams into store updates) → store → components, beside a pure domain (filtering,
// formatting, trees, chart geometry). Each layer names the layers it must not import; @stinger/console-api (the
// contract: types and constants, no Node.js) may be imported anywhere.
const WEB_SRC = 'services/console/web/src';
const WEB_LAYERS = ['api', 'data-layer', 'store', 'components', 'domain'];
const WEB_FORBIDDEN = {
  domain: ['api', 'data-layer', 'store', 'components'],
  api: ['data-layer', 'store', 'components'],
  store: ['api', 'data-layer', 'components'],
  'data-layer': ['components'],
  components: ['api', 'data-layer'],
};
const HTTP_GLOBALS = ['fetch', 'EventSource', 'XMLHttpRequest', 'WebSocket'].map((name) => ({
  name,
  message: `only ${WEB_SRC}/api talks HTTP`,
}));

function webLayerRules(layer) {
  const forbidden = WEB_FORBIDDEN[layer];
  const patterns = [
    { group: ['@stinger/*/*'], message: 'import a library only through its public entry' },
    { group: ['node:*'], message: 'the page runs in the browser: no Node.js modules' },
    ...forbidden.map((other) => ({
      regex: `(^|/)${other}/`,
      message: `${layer}/ must not import ${other}/ (layers: api → data-layer → store → components; domain imports nothing)`,
    })),
  ];
  if (layer === 'domain') {
    patterns.push({ regex: '^(?!@stinger/console-api$|\\./)', message: 'domain/ is pure: it imports only domain files and the API contract (types and constants)' });
  }
  return {
    files: [`${WEB_SRC}/${layer}/**/*.ts`, `${WEB_SRC}/${layer}/**/*.tsx`],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: bannedClients(null), patterns }],
      'no-restricted-globals': ['error', ...(layer === 'api' ? [] : HTTP_GLOBALS), 'process', 'Buffer', 'require'],
    },
  };
}

function bannedClients(except) {
  return Object.entries(CLIENT_LIBS)
    .filter(([name]) => name !== except)
    .map(([name, homes]) => ({ name, message: `${name} may only be imported in ${homes.join(' or ')}` }));
}

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.nx/**', '**/dist/**', 'libs/*/src/generated/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
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
            { sourceTag: 'type:web', onlyDependOnLibsWithTags: ['type:lib'] },
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
  ...Object.entries(CLIENT_LIBS).map(([name, homes]) => ({
    files: homes.map((home) => `${home}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: bannedClients(name), patterns: [{ group: ['@stinger/*/*'], message: 'import a library only through its public entry' }] },
      ],
    },
  })),
  { files: ['libs/config/src/**/*.ts'], rules: { 'no-restricted-properties': 'off' } },
  ...WEB_LAYERS.map(webLayerRules),
  {
    // Command-line output, test and benchmark scripts may print.
    files: ['libs/cli/**/*.ts', 'integration-tests/**/*.ts', 'benchmarks/**/*.ts', '**/scripts/**/*.ts', '**/*.test.ts'],
    rules: { 'no-console': 'off' },
  },
  // node:test's test()/describe() return promises the runner itself awaits.
  { files: ['**/*.test.ts', 'integration-tests/**/*.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off' } },
);
