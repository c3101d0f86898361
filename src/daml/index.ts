/** The `daml` component: DARs, Daml-LF packages, the interpreter, and the engine that builds transactions. */
export * from './dar/index.js';
export * from './engine/index.js';
export * from './interpreter/index.js';
export * from './lf/index.js';
export * from './scenario/index.js';
