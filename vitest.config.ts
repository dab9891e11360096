// Two test projects: `workers` runs inside workerd (real DOs, D1, R2, Worker Loader) via
// @cloudflare/vitest-plugin; `node` runs CLI and local-stack end-to-end tests in Node.
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const migrations = await readD1Migrations(new URL("./migrations", import.meta.url).pathname);

export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.jsonc" },
            miniflare: {
              bindings: {
                OPERATOR_TOKEN: "test-operator-token",
                API_KEY_SECRET: "test-api-key-secret",
                SECRETS_KEY: "test-secrets-key-0123456789abcdef",
                // Signs offers and receipts in workerd tests (anvil's well-known account 9, no value).
                RECEIPT_SIGNING_KEY: "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
                TEST_MIGRATIONS: migrations,
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/worker/**/*.test.ts", "test/unit/**/*.test.ts"],
          setupFiles: ["./test/worker/setup.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
