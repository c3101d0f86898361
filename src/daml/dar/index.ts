export { type DarManifest, parseDarManifest, parseManifestAttributes } from './manifest.js';
export { type Dar, type DarLimits, DEFAULT_DAR_LIMITS, readDar, readDarFile } from './reader.js';
