export { type DarManifest, parseDarManifest, parseManifestAttributes } from './manifest.js';
export { type Dar, readDar, readDarFile } from './reader.js';
