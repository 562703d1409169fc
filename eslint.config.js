// Lint rules that catch real faults in async controller code: floating promises and
// misused promises lose errors silently, so they fail the build. The layer boundaries of
// the map (/work/shared/ARCHITECTURE.md, "Layout") and its file size limit are enforced
// here too, so a wrong-way import or an overgrown file fails CI instead of review.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// Folders directly under src/, each a layer of the map.
const LAYERS = ["api", "capi", "clock", "cmd", "controllers", "maas", "observability", "runtime", "sim", "webhooks"];

const only = (...allowed) => LAYERS.filter((layer) => !allowed.includes(layer));

/**
 * What each layer must not import, and why. A layer not named here (cmd) may
 * import any layer; every file in src/ is still kept from test/ and bench/.
 */
const FORBIDDEN = {
  api: { layers: only(), why: "api/ is the schema everyone shares; it imports nothing of ours" },
  clock: { layers: only("observability"), why: "clock/ is ground everyone stands on; it may use observability/ only" },
  observability: { layers: only("clock"), why: "observability/ is ground everyone stands on; it may use clock/ only" },
  maas: {
    layers: ["controllers", "webhooks", "cmd", "runtime", "capi", "sim"],
    why: "the MAAS client serves the controllers and must not know them, the runtime or CAPI; it is tested against the simulator, never built on it",
  },
  sim: {
    layers: ["controllers", "webhooks", "cmd", "runtime", "capi", "maas"],
    why: "the simulator mirrors MAAS, not our client: sharing the client's code would hide the client's mistakes from its tests",
  },
  runtime: { layers: only("api", "clock", "observability"), why: "the controller runtime knows nothing of CAPI or MAAS; it may use api/, clock/, observability/" },
  capi: { layers: only("api", "runtime", "clock", "observability"), why: "the CAPI contract sits on api/ and runtime/ (with clock/, observability/), below the controllers and MAAS" },
  controllers: { layers: ["cmd", "sim"], why: "controllers are started by cmd/ and talk to MAAS through maas/, never to the simulator directly" },
  webhooks: {
    layers: ["controllers", "cmd", "sim"],
    why: "admission decides from the objects alone and is started by cmd/; the reconcilers' rules it shares live in api/",
  },
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * no-restricted-imports patterns for a file `depth` folders below src/ (src/maas/x.ts
 * is 1, src/sim/handlers/x.ts is 2). Imports are relative, so a layer is reached by
 * exactly `depth` "../" and the repository root by one more: matching that exact prefix
 * tells "../http/" (a sibling folder) from "../../http/" (a layer) without resolving paths.
 */
function patternsFor(layer, depth) {
  const up = (n) => `^(\\./)?(\\.\\./){${n}}`;
  const patterns = [
    {
      regex: `${up(depth + 1)}(test|bench)(/|$)`,
      message: "src/ is the product: it never imports test/ or bench/ (test helpers for src/ live beside the code as test-support.ts).",
    },
  ];
  const rule = FORBIDDEN[layer];
  const layers = (rule?.layers ?? []).filter((other) => other !== layer);
  if (layers.length > 0 && depth > 0) {
    patterns.push({
      regex: `${up(depth)}(${layers.map(escape).join("|")})(/|$)`,
      message: `src/${layer} must not import src/{${layers.join(",")}}: ${rule.why}.`,
    });
  }
  return patterns;
}

const MAX_DEPTH = 4;
const boundaryConfigs = [
  { files: ["src/*.ts"], rules: { "no-restricted-imports": ["error", { patterns: patternsFor(undefined, 0) }] } },
  ...LAYERS.flatMap((layer) =>
    Array.from({ length: MAX_DEPTH }, (_, i) => ({
      files: [`src/${layer}/${"*/".repeat(i)}*.ts`],
      rules: { "no-restricted-imports": ["error", { patterns: patternsFor(layer, i + 1) }] },
    })),
  ),
];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".cache/", "coverage/", "bin/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: {
        // This file is outside tsconfig.json's include; the default project types it.
        projectService: { allowDefaultProject: ["eslint.config.js"] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite", "before", "after", "beforeEach", "afterEach"] },
          ],
        },
      ],
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
    },
  },
  {
    // The map keeps files under ~400 lines; 450 of code (blank lines and comments not
    // counted) is the hard stop. Tests are tables and scenarios, and generated files are
    // not written by hand, so neither is held to it.
    files: ["**/*.ts"],
    ignores: ["**/*.test.ts", "**/*.generated.ts", "**/generated/**"],
    rules: { "max-lines": ["error", { max: 450, skipBlankLines: true, skipComments: true }] },
  },
  ...boundaryConfigs,
);
