import { join } from 'node:path';
import { ensureNativeProgram } from '../native-program.ts';
import { NATIVE_BUILD_DIR } from '../sandbox/native-binaries.ts';

// The native stdio shim (native/paddock-mcp-shim.c): what `paddock run` binds read-only into
// the sandbox and names in the harnesses' MCP settings, so an agent's MCP server starts in a
// millisecond instead of a Node.js start.

const MCP_SHIM = {
  name: 'paddock-mcp-shim',
  source: join(import.meta.dirname, 'native', 'paddock-mcp-shim.c'),
  buildError: 'PDK_MCP_SHIM',
  description: 'the native MCP shim',
} as const;

/**
 * Builds the native MCP shim into `outDir` if needed and returns its path.
 * @throws PaddockError PDK_MCP_SHIM when the C compiler fails
 * @example const shim = ensureMcpShim(); // <repo>/.paddock/native/paddock-mcp-shim
 */
export function ensureMcpShim(outDir: string = NATIVE_BUILD_DIR): string {
  return ensureNativeProgram(MCP_SHIM, outDir);
}
