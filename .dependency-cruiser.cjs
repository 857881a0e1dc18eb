/**
 * Import-cycle check run by `pnpm lint`: modules of every package and example must form a tree.
 *
 * Tool: dependency-cruiser 17.4.3, the newest line whose engines include Node 20 (18.x needs
 * Node >= 22); it resolves extensionless TypeScript imports (moduleResolution Bundler) itself.
 *
 * Type-only imports are included (`tsPreCompilationDeps: true`): a circle made only of
 * `import type` is harmless at run time, but it still couples two modules so neither can be
 * read, moved or tested alone, and the issue asks for the emulator's type circles to go too.
 *
 * `pnpm lint` passes `--ignore-known .dependency-cruiser-known-violations.json`: that file lists the
 * one circle left (core `events.ts` ↔ `jwks/jwks-registry.ts`, whose fix belongs to the JWKS work in
 * progress); any other circle fails the lint. Empty the file (`[]`) once that one is broken.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
	forbidden: [
		{
			name: "no-circular",
			severity: "error",
			comment: "Modules must form a tree: move what both sides share into a leaf module.",
			from: {},
			to: { circular: true },
		},
	],
	options: {
		// Only first-party sources: every package's and example's src.
		includeOnly: "^(packages|examples)/[^/]+/src/",
		doNotFollow: { path: "node_modules" },
		tsPreCompilationDeps: true,
		enhancedResolveOptions: {
			extensions: [".ts", ".tsx", ".mts", ".js", ".mjs", ".json"],
			conditionNames: ["import", "require", "node", "default", "types"],
		},
	},
};
