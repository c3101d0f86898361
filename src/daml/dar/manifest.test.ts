import { describe, expect, it } from 'vitest';
import { parseDarManifest, parseManifestAttributes } from './manifest.js';

describe('DAR manifest', () => {
  it('unfolds continuation lines (one leading space) with CRLF or LF endings', () => {
    const text =
      'Manifest-Version: 1.0\r\nMain-Dalf: pkg-1.0.0-abcdef/pkg-1.0.0-ab\r\n cdef.dalf\r\nDalfs: pkg-1.0.0-abcdef/pkg-1.0.0-abcdef.d\r\n' +
      ' alf, pkg-1.0.0-abcdef/dep-0.1.\r\n 0-1234.dalf\r\nFormat: daml-lf\r\nName: pkg-1.0.0\r\nSdk-Version: 3.4.0\r\n\r\nName: other\r\nX: y\r\n';
    expect(parseDarManifest(text)).toEqual({
      mainDalf: 'pkg-1.0.0-abcdef/pkg-1.0.0-abcdef.dalf',
      dalfs: ['pkg-1.0.0-abcdef/pkg-1.0.0-abcdef.dalf', 'pkg-1.0.0-abcdef/dep-0.1.0-1234.dalf'],
      format: 'daml-lf',
      name: 'pkg-1.0.0',
      sdkVersion: '3.4.0',
    });
    // Only the main section counts: the per-entry section's Name does not override it.
    expect(parseManifestAttributes(text.replaceAll('\r\n', '\n')).get('Name')).toBe('pkg-1.0.0');
  });

  it('keeps the main dalf first even when Dalfs lists it later', () => {
    const m = parseDarManifest('Main-Dalf: b.dalf\nDalfs: a.dalf, b.dalf,a.dalf\nFormat: daml-lf\n');
    expect(m.dalfs).toEqual(['b.dalf', 'a.dalf']);
  });

  it('rejects missing attributes, other formats and stray continuation lines', () => {
    expect(() => parseDarManifest('Dalfs: a.dalf\nFormat: daml-lf\n')).toThrow(
      'the manifest has no Main-Dalf attribute',
    );
    expect(() => parseDarManifest('Main-Dalf: a.dalf\nDalfs: a.dalf\nFormat: lf\n')).toThrow(
      'unsupported DAR format "lf" (expected daml-lf)',
    );
    expect(() => parseManifestAttributes(' continued\n')).toThrow('manifest starts with a continuation line');
    expect(() => parseManifestAttributes('no colon here\n')).toThrow('malformed manifest line');
  });
});
