import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Multi-process tests spawn several daemons; on two shared cores they must not depend on a quiet machine.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Two cores: multi-process and PostgreSQL tests must not starve each other.
    maxWorkers: 2,
  },
});
