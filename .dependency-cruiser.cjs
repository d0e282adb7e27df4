/**
 * The layering of docs/architecture.md, checked on every `npm run lint`. Each rule names the layer it protects and
 * why; a new exception needs a decision record in docs/decisions/, not a quiet edit here.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'Import cycles make start-up order and testing in isolation fragile. A cycle made only of type imports (a class and its ' +
        'collaborator naming each other) has no run-time effect and is allowed.',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'src/domain is the pure core: it imports only itself (and node:crypto for hashing).',
      from: { path: '^src/domain/' },
      to: { pathNot: ['^src/domain/', '^crypto$', '^node:crypto$'] },
    },
    {
      name: 'services-not-on-adapters',
      severity: 'error',
      comment: 'Services are transport-agnostic: they never import a front end, fastify or the server wiring.',
      from: { path: '^src/services/' },
      to: { path: ['^src/adapters/', '^src/northbound/', '^src/server/', '^src/cli/', '^src/main\\.ts$', 'node_modules/fastify', 'node_modules/@fastify/'] },
    },
    {
      name: 'concrete-storage-only-in-composition',
      severity: 'error',
      comment: 'Only the composition root (and the storage factory) knows which backend stores the data.',
      from: { path: '^src/', pathNot: ['^src/storage/', '^src/main\\.ts$', '^src/cli/'] },
      to: { path: ['^src/storage/sqlite/', 'node_modules/better-sqlite3'] },
    },
    {
      name: 'drivers-are-southbound',
      severity: 'error',
      comment: 'Drivers talk to devices through the DriverHost; they know nothing of front ends, services or storage.',
      from: { path: '^src/drivers/' },
      to: { path: ['^src/adapters/', '^src/northbound/', '^src/services/', '^src/storage/', '^src/server/', '^src/auth/', '^src/cli/'] },
    },
    {
      name: 'runtime-not-on-adapters',
      severity: 'error',
      comment: 'Engines do not know HTTP or any other front end exists.',
      from: { path: ['^src/runtime/', '^src/auth/', '^src/storage/', '^src/project/'] },
      to: { path: ['^src/adapters/', '^src/northbound/', '^src/server/', '^src/cli/', 'node_modules/fastify', 'node_modules/@fastify/'] },
    },
    {
      name: 'northbound-is-a-front-end',
      severity: 'error',
      comment:
        'Non-HTTP front ends (src/northbound/<protocol>/: OPC UA server, MQTT publisher) are thin adapters like the HTTP ones: ' +
        'they call services and listen to the runtime, never an HTTP adapter, fastify, the server wiring or a storage.',
      from: { path: '^src/northbound/' },
      to: { path: ['^src/adapters/', '^src/server/', '^src/cli/', '^src/main\\.ts$', '^src/storage/', 'node_modules/fastify', 'node_modules/@fastify/'] },
    },
    {
      name: 'northbound-not-on-each-other',
      severity: 'error',
      comment: 'Each northbound front end stands alone.',
      from: { path: '^src/northbound/([^/]+)/' },
      to: { path: '^src/northbound/', pathNot: ['^src/northbound/$1/'] },
    },
    {
      name: 'northbound-not-on-http',
      severity: 'error',
      comment:
        'Non-HTTP front ends (src/northbound/: the MQTT publisher) call services and read engines like any adapter; they do not ' +
        'reach into the HTTP adapters, the server wiring or a storage backend, and nothing but the composition root starts them.',
      from: { path: '^src/northbound/' },
      to: { path: ['^src/adapters/', '^src/server/', '^src/cli/', '^src/storage/', 'node_modules/fastify', 'node_modules/@fastify/'] },
    },
    {
      name: 'northbound-only-from-composition',
      severity: 'error',
      comment:
        'Front ends are wired in one place (src/main.ts); the project validator is registered with the built-ins; the CLI manages the OPC UA certificate store.',
      from: { path: '^src/', pathNot: ['^src/northbound/', '^src/main\\.ts$', '^src/server/built-ins\\.ts$', '^src/cli/'] },
      to: { path: '^src/northbound/' },
    },
    {
      name: 'cluster-is-not-a-front-end',
      severity: 'error',
      comment:
        'The cluster link works on the runtime, services and storage interfaces; the composition root hands it a concrete repository.',
      from: { path: '^src/cluster/' },
      to: {
        path: [
          '^src/adapters/',
          '^src/server/',
          '^src/cli/',
          '^src/main\\.ts$',
          '^src/storage/sqlite/',
          '^src/storage/postgres/',
          'node_modules/fastify',
          'node_modules/@fastify/',
          'node_modules/pg/',
          'node_modules/better-sqlite3',
        ],
      },
    },
    {
      name: 'adapters-not-on-each-other',
      severity: 'error',
      comment: 'Each front end stands alone; what two need in common lives in adapters/http/shared or a service.',
      from: { path: '^src/adapters/http/([^/]+)/' },
      to: { path: '^src/adapters/http/', pathNot: ['^src/adapters/http/$1/', '^src/adapters/http/shared/'] },
    },
    {
      name: 'erp-targets-are-outbound',
      severity: 'error',
      comment: 'The ERP senders (src/adapters/erp) are outbound adapters: they know no HTTP front end, and only the composition wires them.',
      from: { path: '^src/adapters/erp/' },
      to: { path: ['^src/adapters/http/', '^src/services/', 'node_modules/fastify'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
    exclude: { path: ['^dist/', '^node_modules/'] },
  },
};
