import { createRequire } from 'node:module';
import { Language, type Node, Parser } from 'web-tree-sitter';

// A PowerShell syntax check without PowerShell: the tree-sitter PowerShell grammar, compiled to
// WebAssembly by its package (no toolchain, no native addon), run by web-tree-sitter. CI has no
// Windows and no pwsh, so this is what catches a script Paddock ships or renders that would not
// even parse. It checks syntax only: it cannot tell whether a cmdlet or parameter exists.

export interface PowerShellSyntaxError {
  /** 1-based line and column where the bad node starts. */
  readonly line: number;
  readonly column: number;
  /** `ERROR` (text the grammar cannot place) or `MISSING x` (a token the parser had to invent). */
  readonly kind: string;
  readonly text: string;
}

const require = createRequire(import.meta.url);
let parser: Promise<Parser> | undefined;

function powershellParser(): Promise<Parser> {
  parser ??= (async () => {
    await Parser.init();
    const language = await Language.load(
      require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'),
    );
    const instance = new Parser();
    instance.setLanguage(language);
    return instance;
  })();
  return parser;
}

/** Every ERROR and MISSING node of `source`, in document order (empty: it parses). */
export async function powershellSyntaxErrors(source: string): Promise<PowerShellSyntaxError[]> {
  const tree = (await powershellParser()).parse(source);
  if (!tree) throw new Error('tree-sitter returned no tree');
  const errors: PowerShellSyntaxError[] = [];
  const visit = (node: Node): void => {
    if (node.isError || node.isMissing) {
      errors.push({
        line: node.startPosition.row + 1,
        column: node.startPosition.column + 1,
        kind: node.isMissing ? `MISSING ${node.type}` : 'ERROR',
        text: node.text.split(/\r?\n/)[0]?.slice(0, 80) ?? '',
      });
      if (node.isError) return; // its children are the same mistake
    }
    if (node.hasError) for (const child of node.children) if (child) visit(child);
  };
  visit(tree.rootNode);
  tree.delete();
  return errors;
}

/** `name:line:column kind text` lines, for an assertion message that names the script and the line. */
export function describeSyntaxErrors(name: string, errors: readonly PowerShellSyntaxError[]): string {
  return errors
    .map((error) => `${name}:${error.line}:${error.column} ${error.kind} ${error.text}`)
    .join('\n');
}
