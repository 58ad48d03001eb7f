// The whole database schema, one module per aggregate.
export * from './billing';
export * from './one-time-secrets';
export * from './second-factors';
export * from './sessions';
export * from './users';
