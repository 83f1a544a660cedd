import type { ProtectedPaths } from '../cedar/bundle-types.ts';

// The names no agent may write (DESIGN.md §5 invariant 4), in one place for both of their
// enforcers: the kernel sandbox binds them read-only (src/supervisor/sandbox/protected-paths.ts)
// and the decision point forbids writing them. A release bundle is compiled on the control plane,
// so the list lives here, where both planes can read it.

/**
 * Names protected at the top of every writable scope. A trailing "/" is a directory.
 * Not in HOME: the sandbox's HOME is a tmpfs that dies with the run, so nothing written there
 * reaches the user or a later run; harness config the supervisor provides is bound read-only
 * by the harness adapters.
 */
export const PROTECTED_NAMES = [
  '.claude/',
  '.codex/',
  '.gemini/',
  '.vscode/',
  '.mcp.json',
  '.bashrc',
  '.bash_profile',
  '.bash_logout',
  '.profile',
  '.zshrc',
  '.zshenv',
] as const;

/** The protected paths every bundle is compiled with (standalone runs and releases alike). */
export const POLICY_PROTECTED_PATHS: ProtectedPaths = {
  top: [...PROTECTED_NAMES],
  // write_file governs the harness's own file tools; git writes its directory through exec. No
  // file tool needs to edit a repository's internals, and hooks, config, info/attributes
  // (filter drivers) and modules/*/config all run code, so every `.git` at any depth is off
  // limits to them (the sandbox protects hooks and config; this is stricter).
  anyDepth: ['.git/'],
};
